import type { ComponentType } from 'react';
import { ComparePage } from './compare-page';
import { LivePage } from './live-page';
import { PromotePage } from './promote-page';
import { ReplayPage } from './replay-page';
import { TrafficPage } from './traffic-page';
import { VersionsPage } from './versions-page';
import { RunPage } from './run-page';
import { VerdictPage } from './verdict-page';

export interface PageEntry {
  id: string;
  /** Link text in the side bar and the page's heading. */
  title: string;
  /** The page's heading (and window title) when it says more than the side bar's link. */
  heading?: string;
  path: string;
  icon: string;
  component: ComponentType;
  /** A detail page that links open (a verdict, a run): routed, but not in the side bar. */
  detail?: boolean;
}

/**
 * Every page the side bar offers, in order. A page is listed only once it works; new pages
 * (Replay) add one entry here.
 */
export const pages: readonly PageEntry[] = [
  { id: 'versions', title: 'Versions', path: '/versions', icon: '▤', component: VersionsPage },
  { id: 'compare', title: 'Compare', path: '/compare', icon: '◫', component: ComparePage },
  { id: 'traffic', title: 'Traffic', path: '/traffic', icon: '⇄', component: TrafficPage },
  { id: 'live', title: 'Live', path: '/live', icon: '∿', component: LivePage },
  { id: 'promote', title: 'Promote', heading: 'Promote / Rollback', path: '/promote', icon: '⇪', component: PromotePage },
  { id: 'replay', title: 'Replay', path: '/replay', icon: '⟲', component: ReplayPage },
  { id: 'verdict', title: 'Verdict', path: '/verdict', icon: '', component: VerdictPage, detail: true },
  { id: 'run', title: 'Run', path: '/run', icon: '', component: RunPage, detail: true },
];

/** The pages the side bar lists (detail pages are reached by their links). */
export const navPages: readonly PageEntry[] = pages.filter((p) => p.detail !== true);

export function pageForPath(path: string): PageEntry {
  return pages.find((p) => p.path === path) ?? (pages[0] as PageEntry);
}
