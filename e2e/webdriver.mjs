// A minimal W3C WebDriver client over fetch: what the end-to-end test needs of tauri-driver.

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async call(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok || (json.value && json.value.error)) {
      throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    }
    return json.value;
  }

  async start(application, env) {
    const value = await this.call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application, ...(env ? { env } : {}) } } },
    });
    this.session = value.sessionId;
    return value;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async quit() {
    if (this.session) await this.call("DELETE", this.s("")).catch(() => {});
    this.session = null;
  }

  /** Runs `script` (a function body; `arguments` are `args`) in the page; async scripts
   * receive a callback as their last argument. */
  execute(script, args = []) {
    return this.call("POST", this.s("/execute/sync"), { script, args });
  }

  executeAsync(script, args = []) {
    return this.call("POST", this.s("/execute/async"), { script, args });
  }

  async find(css) {
    const v = await this.call("POST", this.s("/element"), { using: "css selector", value: css });
    return Object.values(v)[0];
  }

  async findAll(css) {
    const v = await this.call("POST", this.s("/elements"), { using: "css selector", value: css });
    return v.map((e) => Object.values(e)[0]);
  }

  click(id) {
    return this.call("POST", this.s(`/element/${id}/click`), {});
  }

  type(id, text) {
    return this.call("POST", this.s(`/element/${id}/value`), { text });
  }

  text(id) {
    return this.call("GET", this.s(`/element/${id}/text`));
  }

  attribute(id, name) {
    return this.call("GET", this.s(`/element/${id}/attribute/${name}`));
  }

  async screenshot() {
    return Buffer.from(await this.call("GET", this.s("/screenshot")), "base64");
  }

  /** Polls `probe` until it returns a truthy value or `ms` pass; returns that value. */
  async until(what, probe, ms = 60_000, every = 250) {
    const end = Date.now() + ms;
    let last;
    while (Date.now() < end) {
      try {
        last = await probe();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, every));
    }
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
  }
}
