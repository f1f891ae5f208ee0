// A plain-text YAML editor: line numbers, the lines with problems marked, and each problem's
// message shown beside its line. A textarea underneath, so keyboard, selection, undo and screen
// readers work as usual.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Problem {
  file?: string;
  line: number;  // 1-based; 0 = the whole file
  column?: number;
  message: string;
}

const LINE_PX = 20;
const PAD_PX = 8;

export function YamlEditor({
  value,
  onInput,
  problems,
  label,
  jumpTo,
  readOnly,
}: {
  value: string;
  onInput: (v: string) => void;
  problems: Problem[];
  label: string;
  jumpTo?: { line: number; seq: number };
  readOnly?: boolean;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const lines = value.split('\n');
  const byLine = new Map<number, Problem[]>();
  for (const p of problems) {
    const l = Math.max(1, Math.min(lines.length, p.line || 1));
    byLine.set(l, [...(byLine.get(l) ?? []), p]);
  }

  useLayoutEffect(() => {
    const el = area.current;
    if (el) setScroll({ top: el.scrollTop, height: el.clientHeight });
  }, [value]);

  // Select a line (a problem clicked, or an action's "Edit").
  useEffect(() => {
    const el = area.current;
    if (!el || !jumpTo || jumpTo.line < 1) return;
    let start = 0;
    for (let i = 1; i < jumpTo.line && start >= 0; i++) start = value.indexOf('\n', start) + 1;
    const end = value.indexOf('\n', start);
    el.focus();
    el.setSelectionRange(start, end < 0 ? value.length : end);
    el.scrollTop = Math.max(0, (jumpTo.line - 4) * LINE_PX);
    setScroll({ top: el.scrollTop, height: el.clientHeight });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jumpTo?.seq]);

  const first = Math.max(0, Math.floor((scroll.top - PAD_PX) / LINE_PX) - 2);
  const last = Math.min(lines.length, first + Math.ceil(scroll.height / LINE_PX) + 5);
  const visible = [];
  for (let i = first; i < last; i++) visible.push(i + 1);

  return (
    <div class="editor">
      <div class="gutter" aria-hidden="true">
        <div style={{ transform: `translateY(${-scroll.top + first * LINE_PX}px)` }}>
          {visible.map((n) => (
            <div key={n} class={byLine.has(n) ? 'gl bad' : 'gl'}>
              {byLine.has(n) ? '▶ ' : ''}
              {n}
            </div>
          ))}
        </div>
      </div>
      <div class="editor-main">
        <div class="marks" aria-hidden="true">
          {[...byLine.keys()].map((n) => (
            <div key={n} class="mark-line" style={{ top: PAD_PX + (n - 1) * LINE_PX - scroll.top + 'px' }} />
          ))}
        </div>
        <textarea
          ref={area}
          aria-label={label}
          aria-invalid={problems.length > 0 ? 'true' : undefined}
          aria-describedby={problems.length > 0 ? 'editor-problems' : undefined}
          spellcheck={false}
          wrap="off"
          readOnly={readOnly}
          value={value}
          onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
          onScroll={(e) => {
            const el = e.target as HTMLTextAreaElement;
            setScroll({ top: el.scrollTop, height: el.clientHeight });
          }}
          onKeyDown={(e) => {
            // Tab indents by two spaces (YAML has no tabs); Escape then Tab leaves the editor.
            if (e.key === 'Tab' && !e.shiftKey && !(e.target as HTMLTextAreaElement).dataset.escaped) {
              e.preventDefault();
              const el = e.target as HTMLTextAreaElement;
              const s = el.selectionStart;
              const next = value.slice(0, s) + '  ' + value.slice(el.selectionEnd);
              onInput(next);
              requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
            } else if (e.key === 'Escape') {
              (e.target as HTMLTextAreaElement).dataset.escaped = '1';
            } else {
              delete (e.target as HTMLTextAreaElement).dataset.escaped;
            }
          }}
        />
        <div class="notes" aria-hidden="true">
          {[...byLine.entries()].map(([n, ps]) => (
            <div key={n} class="note" style={{ top: PAD_PX + (n - 1) * LINE_PX - scroll.top + 'px' }}>
              {ps.map((p) => (p.column ? `col ${p.column}: ` : '') + p.message).join(' · ')}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
