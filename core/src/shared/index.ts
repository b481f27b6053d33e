// The pure modules the workbench shares with core (`@shared` in the renderer); see production-timeline.ts.
export * from './production-timeline.js';
