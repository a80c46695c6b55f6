/**
 * A minimal browser for the licence manager's admin pages: keeps cookies, follows no redirect, reads
 * the CSRF field of forms. By default it reaches the service the way production does, through the
 * HTTPS reverse proxy (`X-Forwarded-Proto: https`, `X-Forwarded-For: <client>`); the manager must
 * then be started with LM_TRUST_PROXY so that it believes the proxy.
 */
export interface BrowserOptions {
  /** Headers added to every request (default: what the HTTPS reverse proxy adds). */
  headers?: Record<string, string>;
}

export const PROXY_HEADERS: Readonly<Record<string, string>> = { 'x-forwarded-proto': 'https' };

export interface BrowserAnswer {
  status: number;
  text: string;
  location: string | null;
  headers: Headers;
}

export class Browser {
  cookies = new Map<string, string>();
  private readonly extra: Record<string, string>;

  constructor(
    private readonly base: string,
    opts: BrowserOptions = {},
  ) {
    this.extra = opts.headers ?? { ...PROXY_HEADERS };
  }

  async request(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<BrowserAnswer> {
    const h: Record<string, string> = { ...this.extra, ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) h['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${this.base}${path}`, { method, headers: h, redirect: 'manual', ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, text: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  get = (p: string, headers?: Record<string, string>) => this.request('GET', p, undefined, headers);
  post = (p: string, f: Record<string, string>, headers?: Record<string, string>) => this.request('POST', p, f, headers);

  static csrf(html: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('no csrf field');
    return m[1]!;
  }

  async login(password: string, headers?: Record<string, string>): Promise<BrowserAnswer> {
    const page = await this.get('/admin/login', headers);
    return this.post('/admin/login', { _csrf: Browser.csrf(page.text), username: 'admin', password }, headers);
  }
}
