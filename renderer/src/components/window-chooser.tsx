import { TIME_WINDOWS, type WindowId } from '../stores/live-series';

/** How much history the Live charts show: a radio group (arrow keys move between the options). */
export function WindowChooser({ value, onChange }: { value: WindowId; onChange: (id: WindowId) => void }) {
  return (
    <div className="segmented" role="radiogroup" aria-label="Time window">
      <span className="segmented-label" aria-hidden="true">
        Time window
      </span>
      {TIME_WINDOWS.map((w) => (
        <label key={w.id} className="segment">
          <input type="radio" name="live-time-window" value={w.id} checked={value === w.id} onChange={() => onChange(w.id)} />
          <span>{w.label}</span>
        </label>
      ))}
    </div>
  );
}
