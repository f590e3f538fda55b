import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import '../../styles/admin.css';

export interface ComboOption {
  value: string;
  /** Shown instead of the value (the value is what is typed and picked). */
  label?: string;
}

/**
 * A text box with a list of completions (WAI-ARIA combobox with a listbox popup): typing
 * filters the list, Down/Up move through it, Enter or a click picks, Escape closes. The typed
 * text is `value`; `onPick` runs when an option is picked (the caller checks typed text itself).
 */
export function Combobox({
  id,
  value,
  onChange,
  options,
  onPick,
  ariaLabel,
  describedBy,
  placeholder,
  invalid,
  onEnter,
}: {
  id: string;
  value: string;
  onChange: (text: string) => void;
  options: ComboOption[];
  onPick: (value: string) => void;
  /** When no visible <label for=id> names the box. */
  ariaLabel?: string;
  describedBy?: string;
  placeholder?: string;
  invalid?: boolean;
  /** Enter with no option highlighted (e.g. add what was typed) instead of submitting the form. */
  onEnter?: (text: string) => void;
}) {
  const listId = `${useId().replace(/:/g, '')}-list`;
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  // The list closes a moment after the box loses focus (so a click on an option lands first);
  // focus or typing coming back meanwhile cancels that.
  const closing = useRef<number | undefined>(undefined);
  const keepOpen = () => window.clearTimeout(closing.current);
  useEffect(() => () => window.clearTimeout(closing.current), []);
  const needle = value.trim().toLowerCase();
  const matches = options.filter((o) => !needle || o.value.toLowerCase().includes(needle) || (o.label ?? '').toLowerCase().includes(needle)).slice(0, 50);
  const shown = open && matches.length > 0;
  // Clamped here rather than in the key handler, so a handler of an older render cannot lose a step.
  const current = Math.min(active, matches.length - 1);
  const optionId = (i: number) => `${listId}-opt-${i}`;

  const pick = (o: ComboOption) => {
    onPick(o.value);
    setOpen(false);
    setActive(-1);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    keepOpen();
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.max(0, Math.min(a, matches.length - 1) + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(0, Math.min(a, matches.length - 1) - 1));
    } else if (e.key === 'Enter' && shown && current >= 0 && matches[current]) {
      e.preventDefault();
      pick(matches[current]);
    } else if (e.key === 'Enter' && onEnter) {
      e.preventDefault();
      setOpen(false);
      onEnter(value);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };

  return (
    <div className="combo">
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        aria-label={ariaLabel}
        aria-describedby={describedBy}
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={shown ? listId : undefined}
        aria-activedescendant={shown && current >= 0 ? optionId(current) : undefined}
        aria-invalid={invalid || undefined}
        placeholder={placeholder}
        value={value}
        onChange={(e) => {
          keepOpen();
          onChange(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => {
          keepOpen();
          setOpen(true);
        }}
        onBlur={() => {
          keepOpen();
          closing.current = window.setTimeout(() => setOpen(false), 150);
        }}
        onKeyDown={onKey}
      />
      {shown && (
        <ul role="listbox" id={listId} aria-label={ariaLabel ? `${ariaLabel}: suggestions` : 'Suggestions'}>
          {matches.map((o, i) => (
            <li
              key={o.value}
              id={optionId(i)}
              role="option"
              aria-selected={i === current}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o);
              }}
            >
              {o.label ?? o.value}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
