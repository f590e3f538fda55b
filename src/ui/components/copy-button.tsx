import { useEffect, useState } from 'react';

/** Writes `text` to the clipboard; falls back to a hidden textarea when the Clipboard API is missing (http origins). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand('copy')) throw new Error('the browser refused to copy');
  } finally {
    area.remove();
  }
}

/**
 * A Copy button for `text` that says "Copied" for two seconds after a copy (and "Copy failed"
 * when the browser refused). `label` names what it copies for screen readers ("Copy SHA-256").
 */
export function CopyButton({ text, label, className }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 2000);
    return () => window.clearTimeout(t);
  }, [state]);
  const copy = () => {
    copyText(text).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  };
  // The accessible name starts with the visible text ("Copy", "✓ Copied") and goes on with what
  // is copied, read by screen readers only; the status line announces the copy.
  const what = (label ?? '').replace(/^Copy\s*/i, '');
  return (
    <>
      <button type="button" className={`copy ${className ?? ''} ${state}`.trim()} onClick={copy} data-copy-state={state}>
        {state === 'copied' ? '✓ Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
        {what && <span className="sr-only"> {what}</span>}
      </button>
      <span className="sr-only" role="status">
        {state === 'copied' ? `Copied ${what}`.trim() : state === 'failed' ? 'Copy failed' : ''}
      </span>
    </>
  );
}

/** A value in monospace with its copy button beside it (checksums, coordinates, commands, tokens). */
export function Copyable({ text, label, children }: { text: string; label: string; children?: React.ReactNode }) {
  return (
    <span className="copyable">
      <code className="copyable-text" title={text}>
        {children ?? text}
      </code>
      <CopyButton text={text} label={label} />
    </span>
  );
}
