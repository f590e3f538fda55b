import { Fragment, useState, type ReactNode } from 'react';
import { ErrorBox } from './common';
import { useAction } from './hooks';

/**
 * A destructive button with an inline confirmation (no native dialog, so it works by keyboard
 * and in tests alike); the error of a refused action stays next to it. `question` is shown next
 * to the confirmation and names its group unless `groupLabel` does; `inline` renders without a
 * wrapping element.
 */
export function ConfirmButton({
  label,
  question,
  groupLabel,
  confirmLabel = 'Yes, delete',
  accessibleLabel,
  inline,
  onConfirm,
}: {
  label: string;
  question?: ReactNode;
  groupLabel?: string;
  confirmLabel?: string;
  accessibleLabel?: string;
  inline?: boolean;
  onConfirm: () => Promise<void>;
}) {
  const [asking, setAsking] = useState(false);
  const action = useAction();
  const Wrap = inline ? Fragment : 'div';
  return (
    <Wrap {...(inline ? {} : { className: 'confirm' })}>
      {!asking ? (
        <button type="button" className="danger" aria-label={accessibleLabel} onClick={() => setAsking(true)}>
          {label}
        </button>
      ) : (
        <span role="group" aria-label={groupLabel ?? (typeof question === 'string' ? question : undefined)} className="toolbar">
          {question !== undefined && <span>{question}</span>}
          <button
            type="button"
            className="danger"
            autoFocus
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                await onConfirm();
                setAsking(false);
              })
            }
          >
            {confirmLabel}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </span>
      )}
      <ErrorBox error={action.error} />
    </Wrap>
  );
}
