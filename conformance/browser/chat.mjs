// Drives a reference server's chat page (GET /, WebSocket /ws) in Debian's
// headless Chromium through playwright-core. Called by run.sh, once per
// server process:
//
//   node chat.mjs chat    --url http://127.0.0.1:PORT --runtime tokio --screenshot PATH
//   node chat.mjs refused --url http://127.0.0.1:PORT --runtime tokio [--screenshot PATH]
//   (--executable PATH: the browser; default $CHROMIUM or /usr/bin/chromium)
//
// chat:    two tabs of one browser context; a message sent from each tab
//          appears exactly once in both tabs (the sender is included), shown
//          as text (never as markup); /stats counts no policy violation.
// refused: the server runs with an Origin allowlist that excludes the page's
//          origin: the page loads, but its WebSocket is refused (Chromium
//          sees a 403 handshake response, the page reports the close and
//          never connects) and /stats counts policy_violation.
//
// Every wait is bounded; any failure exits non-zero.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const STEP_MS = 10_000;

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = { mode };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i].replace(/^--/, "");
    if (rest[i + 1] === undefined) throw new Error(`missing value for ${rest[i]}`);
    opts[key] = rest[i + 1];
  }
  if (!["chat", "refused"].includes(mode)) throw new Error(`unknown mode ${mode}`);
  if (!opts.url) throw new Error("--url is required");
  opts.runtime ??= "server";
  opts.executable ??= process.env.CHROMIUM ?? "/usr/bin/chromium";
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const tag = `[browser ${opts.runtime} ${opts.mode}]`;
let failures = 0;

function ok(what) {
  console.log(`${tag} ok   ${what}`);
}
function fail(what) {
  failures += 1;
  console.log(`${tag} FAIL ${what}`);
}
async function check(what, fn) {
  try {
    const detail = await fn();
    ok(detail ? `${what}: ${detail}` : what);
  } catch (e) {
    fail(`${what}: ${e.message.split("\n")[0]}`);
  }
}

async function stats() {
  const res = await fetch(new URL("/stats", opts.url), { signal: AbortSignal.timeout(STEP_MS) });
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
  return res.json();
}

// The policy_violation counter, wherever /stats nests it (protocol errors
// are keyed by ErrorKind::name()).
function policyViolations(json) {
  let found;
  const walk = (v, path) => {
    if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "policy_violation" && typeof x === "number") {
          if (found !== undefined) throw new Error(`policy_violation twice in /stats (${path}.${k})`);
          found = x;
        } else {
          walk(x, `${path}.${k}`);
        }
      }
    }
  };
  walk(json, "");
  if (found === undefined) throw new Error("/stats has no policy_violation counter");
  return found;
}

// Watches a page: uncaught errors, and every WebSocket it opens with the
// frames and handshake errors Chromium reports.
function watch(page, name) {
  const w = { name, pageErrors: [], sockets: [] };
  page.on("pageerror", (e) => w.pageErrors.push(e.message));
  page.on("websocket", (ws) => {
    const s = { url: ws.url(), sent: [], received: [], errors: [], closed: false };
    w.sockets.push(s);
    ws.on("framesent", (f) => s.sent.push(f.payload));
    ws.on("framereceived", (f) => s.received.push(f.payload));
    ws.on("socketerror", (e) => s.errors.push(String(e)));
    ws.on("close", () => { s.closed = true; });
  });
  return w;
}

// The chat log's message lines (not the page's own "sys" notices).
async function messages(page) {
  return page.$$eval("#log > div:not(.sys)", (els) => els.map((e) => e.textContent));
}

// Types into the input and submits the form, by Enter or by the button.
async function send(page, text, how = "enter") {
  await page.fill("#text", text, { timeout: STEP_MS });
  if (how === "click") await page.click("form button", { timeout: STEP_MS });
  else await page.press("#text", "Enter", { timeout: STEP_MS });
}

async function waitForMessage(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#log > div:not(.sys)")].some((e) => e.textContent === t),
    text,
    { timeout: STEP_MS },
  );
}

async function runChat(context) {
  const a = await context.newPage();
  const b = await context.newPage();
  const wa = watch(a, "A");
  const wb = watch(b, "B");

  await check("GET / renders the chat page in tab A", async () => {
    const res = await a.goto(opts.url, { timeout: STEP_MS, waitUntil: "load" });
    if (res.status() !== 200) throw new Error(`status ${res.status()}`);
    const title = await a.title();
    if (title !== "Rampart chat") throw new Error(`title ${JSON.stringify(title)}`);
    return `status 200, title "${title}"`;
  });
  await check("GET / renders the chat page in tab B", async () => {
    const res = await b.goto(opts.url, { timeout: STEP_MS, waitUntil: "load" });
    if (res.status() !== 200) throw new Error(`status ${res.status()}`);
  });
  for (const [p, n] of [[a, "A"], [b, "B"]]) {
    await check(`tab ${n} WebSocket /ws connects`, async () => {
      await p.waitForFunction(() => document.getElementById("state").textContent === "connected", null, {
        timeout: STEP_MS,
      });
    });
  }

  // Nothing below can pass without both pages connected: stop here.
  if (failures) throw new Error("the chat page did not load or connect in both tabs; skipping the rest");

  const stamp = `${process.pid}-${Date.now()}`;
  const fromA = `hello from tab A ${stamp}`;
  const fromB = `reply from tab B ${stamp} — üñí ✓`;
  const markup = `<b id="inj">not bold</b> & <img src=x onerror="window.injected=1"> ${stamp}`;

  await send(a, fromA);
  for (const [p, n] of [[b, "B (peer)"], [a, "A (sender)"]]) {
    await check(`tab A -> tab ${n} shows the message`, () => waitForMessage(p, fromA));
  }
  await send(b, fromB, "click");
  for (const [p, n] of [[a, "A (peer)"], [b, "B (sender)"]]) {
    await check(`tab B (Send button) -> tab ${n} shows the message (non-ASCII intact)`, () => waitForMessage(p, fromB));
  }
  await send(a, markup);
  for (const [p, n] of [[b, "B"], [a, "A"]]) {
    await check(`markup sent from A is shown as text in tab ${n}`, async () => {
      await waitForMessage(p, markup);
      const injected = await p.evaluate(() => Boolean(document.getElementById("inj")) || window.injected === 1);
      if (injected) throw new Error("message text was interpreted as HTML");
    });
  }

  for (const [p, n] of [[a, "A"], [b, "B"]]) {
    await check(`tab ${n} shows each message exactly once, in order`, async () => {
      const got = await messages(p);
      const want = [fromA, fromB, markup];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new Error(`log is ${JSON.stringify(got)}`);
      }
    });
    await check(`tab ${n} input is cleared after sending`, async () => {
      const v = await p.inputValue("#text");
      if (v !== "") throw new Error(`input still holds ${JSON.stringify(v)}`);
    });
  }

  for (const w of [wa, wb]) {
    await check(`tab ${w.name}: one /ws socket, no handshake error, no page error`, async () => {
      if (w.pageErrors.length) throw new Error(`page errors: ${w.pageErrors.join("; ")}`);
      if (w.sockets.length !== 1) throw new Error(`${w.sockets.length} sockets opened`);
      const s = w.sockets[0];
      if (new URL(s.url).pathname !== "/ws") throw new Error(`socket url ${s.url}`);
      if (s.errors.length) throw new Error(`socket errors: ${s.errors.join("; ")}`);
      if (s.closed) throw new Error("socket closed");
      return `sent ${s.sent.length} frames, received ${s.received.length}`;
    });
  }

  await check("/stats counts no policy_violation", async () => {
    const n = policyViolations(await stats());
    if (n !== 0) throw new Error(`policy_violation = ${n}`);
  });

  if (opts.screenshot) {
    await check(`screenshot of tab A kept at ${opts.screenshot}`, async () => {
      mkdirSync(dirname(opts.screenshot), { recursive: true });
      await a.screenshot({ path: opts.screenshot, fullPage: true, timeout: STEP_MS });
    });
  }
}

async function runRefused(context) {
  const before = await stats().then(policyViolations);
  const page = await context.newPage();
  const w = watch(page, "refused");

  await check("GET / still serves the page (no Origin on a same-origin navigation)", async () => {
    const res = await page.goto(opts.url, { timeout: STEP_MS, waitUntil: "load" });
    if (res.status() !== 200) throw new Error(`status ${res.status()}`);
  });
  await check("the page reports its WebSocket closed (1006) and retries", async () => {
    await page.waitForFunction(
      () => /^disconnected \(1006\)/.test(document.getElementById("state").textContent) &&
        [...document.querySelectorAll("#log > div.sys")].some((e) => e.textContent.startsWith("connection closed: 1006")),
      null,
      { timeout: STEP_MS },
    );
    return JSON.stringify(await page.textContent("#state"));
  });
  await check("Chromium saw the handshake refused with 403", async () => {
    const deadline = Date.now() + STEP_MS;
    while (!w.sockets.some((s) => s.errors.length) && Date.now() < deadline) {
      await page.waitForTimeout(100);
    }
    const errs = w.sockets.flatMap((s) => s.errors);
    if (!errs.length) throw new Error("no WebSocket handshake error reported");
    if (!errs.every((e) => /403/.test(e))) throw new Error(`errors: ${errs.join("; ")}`);
    return errs[0];
  });
  await check("no socket ever carried a frame, no page error", async () => {
    if (w.pageErrors.length) throw new Error(`page errors: ${w.pageErrors.join("; ")}`);
    const frames = w.sockets.reduce((n, s) => n + s.sent.length + s.received.length, 0);
    if (frames) throw new Error(`${frames} frames moved`);
    return `${w.sockets.length} attempt(s)`;
  });
  await check("/stats counts the refusal as policy_violation", async () => {
    const after = policyViolations(await stats());
    if (!(after > before)) throw new Error(`policy_violation ${before} -> ${after}`);
    return `policy_violation ${before} -> ${after}`;
  });
  if (opts.screenshot) {
    await check(`screenshot of the refused page kept at ${opts.screenshot}`, async () => {
      mkdirSync(dirname(opts.screenshot), { recursive: true });
      await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: STEP_MS });
    });
  }
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), "rampart-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.executable,
      headless: true,
      timeout: 30_000,
      viewport: { width: 900, height: 700 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-quic",
        "--disable-sync",
      ],
    });
    context.setDefaultTimeout(STEP_MS);
    ok(`launched ${opts.executable}`);
    if (opts.mode === "chat") await runChat(context);
    else await runRefused(context);
  } catch (e) {
    fail(`unexpected error: ${e.stack ?? e}`);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${tag} ${failures ? `FAILED (${failures})` : "passed"}`);
  process.exit(failures ? 1 : 0);
}

main();
