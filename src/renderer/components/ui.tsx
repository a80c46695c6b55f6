/**
 * The small component set of the renderer: buttons, fields, switches, cards, badges, progress, tables,
 * empty and error states. Accessible by default (labels, aria-describedby, roles), styled by styles.css.
 */
import { useId, useState, type ReactNode, type ButtonHTMLAttributes, type InputHTMLAttributes } from 'react';
import { fr } from '../../shared/strings.fr.js';

type ButtonVariant = 'default' | 'primary' | 'danger' | 'ghost';
export function Button({
  variant = 'default',
  size,
  busy = false,
  children,
  className,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: 'sm' | 'lg'; busy?: boolean }) {
  const cls = ['btn', variant !== 'default' ? `btn-${variant}` : '', size ? `btn-${size}` : '', className ?? '']
    .filter(Boolean)
    .join(' ');
  return (
    <button type={type} className={cls} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

/** Ids for a control and its help/error texts, for aria-describedby. */
function useFieldIds(id?: string) {
  const auto = useId();
  const base = id ?? `f${auto.replace(/:/g, '')}`;
  return { input: base, help: `${base}-help`, error: `${base}-error` };
}

function describedBy(ids: { help: string; error: string }, help?: ReactNode, error?: ReactNode): string | undefined {
  const parts = [help ? ids.help : null, error ? ids.error : null].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

type FieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> & {
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  help?: ReactNode;
  error?: string | null;
};

export function Field({ label, value, onChange, help, error, id, className, ...rest }: FieldProps) {
  const ids = useFieldIds(id);
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={ids.input}>{label}</label>
      <input
        id={ids.input}
        className="input"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(ids, help, error)}
        {...rest}
      />
      {help ? (
        <span id={ids.help} className="help">
          {help}
        </span>
      ) : null}
      {error ? (
        <span id={ids.error} className="error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * A secret input. When a secret is already saved (`saved`), its value is never shown: the field displays
 * "•••• enregistré" and a "Remplacer" button that opens an empty input. `value` is the NEW secret typed by
 * the user ('' = keep the saved one).
 */
export function SecretField({
  label,
  saved,
  value,
  onChange,
  help,
  error,
  id,
  autoComplete = 'new-password',
}: {
  label: ReactNode;
  saved: boolean;
  value: string;
  onChange: (value: string) => void;
  help?: ReactNode;
  error?: string | null;
  id?: string;
  autoComplete?: string;
}) {
  const ids = useFieldIds(id);
  const [replacing, setReplacing] = useState(false);
  const showSaved = saved && !replacing && value === '';
  return (
    <div className="field">
      {showSaved ? (
        <>
          <span className="label" id={`${ids.input}-label`}>
            {label}
          </span>
          <div className="secret-saved" aria-labelledby={`${ids.input}-label`} role="group">
            <span className="dots" data-testid={`${ids.input}-saved`}>
              {fr.common.secretSaved}
            </span>
            <Button size="sm" onClick={() => setReplacing(true)} aria-describedby={`${ids.input}-label`}>
              {fr.common.replace}
            </Button>
          </div>
        </>
      ) : (
        <>
          <label htmlFor={ids.input}>{label}</label>
          <div className="row" style={{ flexWrap: 'nowrap' }}>
            <input
              id={ids.input}
              className="input"
              type="password"
              value={value}
              autoComplete={autoComplete}
              autoFocus={replacing}
              onChange={(e) => onChange(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={describedBy(ids, help, error)}
            />
            {saved ? (
              <Button
                size="sm"
                variant="ghost"
                onClick={() => {
                  onChange('');
                  setReplacing(false);
                }}
              >
                {fr.common.keepSaved}
              </Button>
            ) : null}
          </div>
        </>
      )}
      {help ? (
        <span id={ids.help} className="help">
          {help}
        </span>
      ) : null}
      {error ? (
        <span id={ids.error} className="error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

export type SelectOption = { value: string; label: string };
export function Select({
  label,
  value,
  onChange,
  options,
  help,
  error,
  id,
  disabled,
}: {
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  options: readonly SelectOption[];
  help?: ReactNode;
  error?: string | null;
  id?: string;
  disabled?: boolean;
}) {
  const ids = useFieldIds(id);
  return (
    <div className="field">
      <label htmlFor={ids.input}>{label}</label>
      <select
        id={ids.input}
        className="select"
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(ids, help, error)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {help ? (
        <span id={ids.help} className="help">
          {help}
        </span>
      ) : null}
      {error ? (
        <span id={ids.error} className="error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

export function Switch({
  label,
  checked,
  onChange,
  help,
  id,
}: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  help?: ReactNode;
  id?: string;
}) {
  const ids = useFieldIds(id);
  return (
    <div className="field">
      <div className="switch">
        <button
          id={ids.input}
          type="button"
          role="switch"
          aria-checked={checked}
          aria-describedby={help ? ids.help : undefined}
          onClick={() => onChange(!checked)}
        />
        <label htmlFor={ids.input}>{label}</label>
      </div>
      {help ? (
        <span id={ids.help} className="help">
          {help}
        </span>
      ) : null}
    </div>
  );
}

export function RadioGroup<T extends string>({
  legend,
  name,
  value,
  onChange,
  options,
  cards = false,
  help,
}: {
  legend: ReactNode;
  name: string;
  value: T;
  onChange: (value: T) => void;
  options: readonly { value: T; label: ReactNode; help?: ReactNode }[];
  cards?: boolean;
  help?: ReactNode;
}) {
  const helpId = `${name}-help`;
  return (
    <fieldset aria-describedby={help ? helpId : undefined}>
      <legend>{legend}</legend>
      {help ? (
        <span id={helpId} className="help">
          {help}
        </span>
      ) : null}
      <div className="radio-row" role="radiogroup">
        {options.map((o) => (
          <label key={o.value} className={cards ? 'radio-card' : undefined}>
            <input
              type="radio"
              name={name}
              value={o.value}
              checked={value === o.value}
              onChange={() => onChange(o.value)}
            />
            <span>
              {o.label}
              {o.help ? <span className="help muted small" style={{ display: 'block', fontWeight: 400 }}>{o.help}</span> : null}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
  headingLevel = 2,
  headingId,
  ...rest
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
  className?: string;
  headingLevel?: 2 | 3 | 4;
  /** Id of the heading, which can then take the focus (a wizard step, a section reached by a link). */
  headingId?: string;
  'data-testid'?: string;
}) {
  const H = headingLevel === 2 ? 'h2' : headingLevel === 3 ? 'h3' : 'h4';
  return (
    <section className={`card ${className ?? ''}`} data-testid={rest['data-testid']} aria-labelledby={headingId}>
      {title || actions ? (
        <div className="card-head">
          {title ? (
            <H id={headingId} tabIndex={headingId ? -1 : undefined}>
              {title}
            </H>
          ) : (
            <span />
          )}
          {actions ? <div className="row">{actions}</div> : null}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export type Tone = 'ok' | 'warn' | 'error' | 'info' | 'neutral';
export function StatusBadge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function ProgressBar({
  value,
  max,
  label,
}: {
  /** null = indeterminate */
  value: number | null;
  max: number | null;
  label: string;
}) {
  const determinate = value !== null && max !== null && max > 0;
  const pct = determinate ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div
      className={`progress ${determinate ? '' : 'indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={determinate ? max : undefined}
      aria-valuenow={determinate ? value : undefined}
      aria-valuetext={determinate ? `${pct} %` : fr.common.inProgress}
    >
      <div style={determinate ? { width: `${pct}%` } : undefined} />
    </div>
  );
}

export function Stepper({ steps, current }: { steps: readonly string[]; current: number }) {
  return (
    <ol className="stepper" aria-label={fr.wizard.stepsLabel}>
      {steps.map((s, i) => (
        <li key={s} className={i < current ? 'done' : undefined} aria-current={i === current ? 'step' : undefined}>
          <span className="num" aria-hidden="true">
            {i < current ? '✓' : i + 1}
          </span>
          <span>
            {s}
            {i < current ? <span className="sr-only"> ({fr.wizard.stepDone})</span> : null}
          </span>
        </li>
      ))}
    </ol>
  );
}

export type Column<T> = {
  key: string;
  header: ReactNode;
  render: (row: T) => ReactNode;
  numeric?: boolean;
  /** Minimum width of the column (CSS length), so short labels do not wrap letter by letter. */
  minWidth?: string;
};
export function Table<T>({
  columns,
  rows,
  rowKey,
  caption,
  onRowClick,
  isRowClickable,
  rowLabel,
  rowClassName,
  selectedKey,
  testId,
}: {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  caption: string;
  onRowClick?: (row: T) => void;
  /** Which rows `onRowClick` applies to (default all). */
  isRowClickable?: (row: T) => boolean;
  /** What a clickable row does (its tooltip). */
  rowLabel?: (row: T) => string | undefined;
  rowClassName?: (row: T) => string | undefined;
  selectedKey?: string | null;
  testId?: string;
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? 'num' : undefined} style={c.minWidth ? { minWidth: c.minWidth } : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const k = rowKey(r);
            const click = onRowClick && (isRowClickable?.(r) ?? true) ? onRowClick : undefined;
            const cls = [click ? 'clickable' : '', k === selectedKey ? 'selected' : '', rowClassName?.(r) ?? '']
              .filter(Boolean)
              .join(' ');
            return (
              <tr
                key={k}
                data-key={k}
                className={cls || undefined}
                tabIndex={click ? 0 : undefined}
                aria-selected={click ? k === selectedKey : undefined}
                title={click ? rowLabel?.(r) : undefined}
                onClick={click ? () => click(r) : undefined}
                onKeyDown={
                  click
                    ? (e) => {
                        if (e.key === 'Enter' || e.key === ' ') {
                          e.preventDefault();
                          click(r);
                        }
                      }
                    : undefined
                }
              >
                {columns.map((c) => (
                  <td key={c.key} className={c.numeric ? 'num' : undefined}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

export function Loading({ label }: { label?: string }) {
  return (
    <div className="empty" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label ?? fr.common.loading}
    </div>
  );
}

export function ErrorBanner({
  title,
  message,
  details,
  onRetry,
  id,
}: {
  title?: string;
  message: string;
  details?: Record<string, string>;
  onRetry?: () => void;
  /** Lets the page move the focus to this message (the result of what the user just did). */
  id?: string;
}) {
  return (
    <div className="banner banner-error" role="alert" id={id} tabIndex={id ? -1 : undefined}>
      <BannerBody title={title} message={message} details={details} />
      {onRetry ? (
        <Button size="sm" onClick={onRetry}>
          {fr.common.retry}
        </Button>
      ) : null}
    </div>
  );
}

/** A diagnosis detail's key as a label: "serveur" → "Serveur", "sso" → "SSO". */
const DETAIL_ACRONYMS: Record<string, string> = { sso: 'SSO', api: 'API', url: 'URL', tls: 'TLS', sql: 'SQL' };
function detailLabel(key: string): string {
  return DETAIL_ACRONYMS[key.toLowerCase()] ?? key.charAt(0).toUpperCase() + key.slice(1);
}

/** Title, message and detail facts of a result banner (error or success). */
function BannerBody({ title, message, details }: { title?: string | undefined; message: string; details?: Record<string, string> | undefined }) {
  const entries = details ? Object.entries(details) : [];
  return (
    <div className="banner-body">
      {title ? <strong>{title}</strong> : null}
      <span>{message}</span>
      {entries.length ? (
        <dl>
          {entries.map(([k, v]) => (
            <FactPair key={k} k={k} v={v} />
          ))}
        </dl>
      ) : null}
    </div>
  );
}

function FactPair({ k, v }: { k: string; v: string }) {
  return (
    <>
      <dt>{detailLabel(k)}</dt>
      <dd>{v}</dd>
    </>
  );
}

export function SuccessBanner({ title, message, details, id }: { title?: string; message: string; details?: Record<string, string>; id?: string }) {
  return (
    <div className="banner banner-ok" role="status" id={id} tabIndex={id ? -1 : undefined}>
      <BannerBody title={title} message={message} details={details} />
    </div>
  );
}

export function WarnBanner({ title, children }: { title?: string; children: ReactNode }) {
  return (
    <div className="banner banner-warn" role="status">
      <div className="banner-body">
        {title ? <strong>{title}</strong> : null}
        {children}
      </div>
    </div>
  );
}

export function Facts({ items }: { items: readonly (readonly [string, ReactNode])[] }) {
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <FactRow key={k} k={k} v={v} />
      ))}
    </dl>
  );
}
function FactRow({ k, v }: { k: string; v: ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </>
  );
}
