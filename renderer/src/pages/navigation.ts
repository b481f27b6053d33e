import { createContext } from 'react';

/** `entered`: the page was opened from the side bar (not the first page of the session). */
export const NavigationContext = createContext<{ entered: boolean }>({ entered: false });
