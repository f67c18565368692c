import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const FRONTEND_DIR = resolve(import.meta.dirname, "../..");
const BACKEND_DIR = resolve(FRONTEND_DIR, "../backend");
const CLI = join(BACKEND_DIR, ".venv/bin/warm-transfer");

export interface Backend {
  /** http://127.0.0.1:PORT: the API, the simulator and the built console at `/`. */
  url: string;
  /** The server's output so far, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolvePort(address.port);
        else reject(new Error("No port"));
      });
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The backend exited (${String(child.exitCode)}):\n${log()}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((wait) => setTimeout(wait, 200));
  }
  throw new Error(`The backend didn't get ready in 30 s:\n${log()}`);
}

/**
 * The real backend, in simulated voice mode, on a free loopback port with its own SQLite file:
 * `warm-transfer migrate`, then `warm-transfer serve`. It serves the console from frontend/dist,
 * so `npm run build` must have run.
 */
export async function startBackend(extraEnv: Record<string, string> = {}): Promise<Backend> {
  if (!existsSync(CLI)) throw new Error(`No backend CLI at ${CLI}: create the backend's venv first.`);
  if (!existsSync(join(FRONTEND_DIR, "dist/index.html"))) {
    throw new Error("frontend/dist is missing: run `npm run build` before `npm run e2e`.");
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const dir = mkdtempSync(join(tmpdir(), "warm-transfer-e2e-"));
  // No Twilio credentials: simulated voice mode with the built-in simulator.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("TWILIO_")),
  );
  Object.assign(env, {
    APP_ENV: "development",
    VOICE_MODE: "simulated",
    DATABASE_URL: `sqlite+aiosqlite:///${join(dir, "e2e.db")}`,
    PUBLIC_BASE_URL: url,
    // The shortest ring the backend allows; the simulator adds Twilio's 5 s buffer.
    AGENT_RING_TIMEOUT: "5",
    LOG_LEVEL: "WARNING",
    ...extraEnv,
  });

  await run(CLI, ["migrate"], { cwd: dir, env });
  const logFile = join(dir, "server.log");
  const out = createWriteStream(logFile);
  const child = spawn(CLI, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const exited = new Promise<void>((done) =>
    child.once("exit", () => {
      done();
    }),
  );

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    }
    out.end();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, log, stop };
}
