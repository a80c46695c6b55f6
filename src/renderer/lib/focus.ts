/**
 * Focus moved on purpose: after an action whose result replaces what had the focus (a wizard step, a
 * test's result, « Accepter », « Enregistrer »), the focus goes to the new heading or the result message,
 * not back to the top of the page. `focusAfterRender(selector)` is called with the state updates; the
 * element is focused once React has drawn it (elements without tabIndex get tabIndex=-1).
 */
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';

export function focusElement(el: HTMLElement | null): boolean {
  if (!el) return false;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.setAttribute('tabindex', '-1');
  el.focus();
  return document.activeElement === el;
}

export function useFocusAfterRender(): (selector: string) => void {
  const wanted = useRef<{ selector: string; tries: number } | null>(null);
  useEffect(() => {
    const w = wanted.current;
    if (!w) return;
    if (focusElement(document.querySelector<HTMLElement>(w.selector))) wanted.current = null;
    else if (++w.tries > 20) wanted.current = null;
  });
  return useCallback((selector: string) => {
    wanted.current = { selector, tries: 0 };
    // The element may already be there (no render follows): try once the current events are done.
    window.setTimeout(() => {
      const w = wanted.current;
      if (w && w.selector === selector && focusElement(document.querySelector<HTMLElement>(selector))) wanted.current = null;
    }, 30);
  }, []);
}

/** How often a live region may speak: a progress that changes 30 times a second is read every few seconds. */
export const LIVE_REGION_MS = 4000;

/**
 * `value`, but changed at most once every `ms`: the latest value is shown when the delay is over (nothing
 * is lost, the in-between values are skipped). For aria-live regions fed by fast events.
 */
export function useThrottled<T>(value: T, ms: number = LIVE_REGION_MS): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    const t = window.setTimeout(
      () => {
        last.current = Date.now();
        setShown(value);
      },
      Math.max(0, wait),
    );
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return shown;
}

/**
 * For a list (select) whose change matters: the keys that change a CLOSED list's value in Chromium without opening
 * it are ignored (Espace or Alt+Flèche bas opens the list, where the arrows choose as usual).
 */
export function keepClosedListValue(e: KeyboardEvent<HTMLSelectElement>): void {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End'].includes(e.key) || (e.key.length === 1 && e.key !== ' ')) e.preventDefault();
}
