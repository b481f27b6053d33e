import { stageChangeTrafficEffect, type StageChangeForTraffic } from '@contract';
import { useServing } from '../stores/context';

/** The confirmation's statement of what the change will do to this server's traffic (the one rule in the contract). */
export function TrafficEffectNote({ change }: { change: StageChangeForTraffic }) {
  const state = useServing((s) => s.state);
  const effect = stageChangeTrafficEffect(state, change);
  return (
    <p className={effect.moves ? 'dialog-note traffic-effect moves' : 'dialog-note traffic-effect stays'} role="note" aria-label="Traffic">
      <strong>{effect.moves ? 'Traffic moves.' : 'Traffic stays.'}</strong> {effect.text}
    </p>
  );
}
