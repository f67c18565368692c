import { useEffect, useRef } from "react";

/** Keys as `a`, `h` or `shift+e`: lower case, with `shift+` when Shift is held. */
export type HotkeyBindings = Record<string, () => void>;

const NON_TEXT_INPUTS = new Set([
  "button",
  "checkbox",
  "color",
  "file",
  "image",
  "radio",
  "range",
  "reset",
  "submit",
]);

/** Whether a key pressed here is typing: text fields, selects and editable content keep their keys. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLInputElement) return !NON_TEXT_INPUTS.has(target.type);
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

export function hotkeyOf(event: KeyboardEvent): string | null {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || event.defaultPrevented) return null;
  if (isTypingTarget(event.target)) return null;
  // A modal dialog (call details) has the agent's attention: keys mean nothing to the call then.
  if (document.querySelector('[aria-modal="true"]') !== null) return null;
  return `${event.shiftKey ? "shift+" : ""}${event.key.toLowerCase()}`;
}

/**
 * Single-key shortcuts on the whole page, while `enabled`. The bindings may change on every
 * render; the listener stays the same.
 */
export function useHotkeys(bindings: HotkeyBindings, enabled = true): void {
  const latest = useRef(bindings);
  useEffect(() => {
    latest.current = bindings;
  });

  useEffect(() => {
    if (!enabled) return;
    const onKeyDown = (event: KeyboardEvent) => {
      const key = hotkeyOf(event);
      const action = key === null ? undefined : latest.current[key];
      if (action === undefined) return;
      event.preventDefault();
      action();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
    };
  }, [enabled]);
}
