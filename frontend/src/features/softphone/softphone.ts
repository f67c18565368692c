import type { AppConfig, VoiceToken } from "../../types/api";
import type { MicrophoneAccess, MicrophoneState } from "./microphone";
import { microphoneProblem, refreshProblem, startProblem, voiceErrorProblem, type Problem } from "./problems";
import { refreshDelayMs } from "./token-refresh";
import type {
  DeviceState,
  Unsubscribe,
  VoiceCall,
  VoiceCallStatus,
  VoiceDevice,
  VoiceDeviceFactory,
} from "./voice-device";

/** `off`: no device (not started, stopped, or failed to start); `starting`: before a device exists. */
export type SoftphoneStatus = "off" | "starting" | Exclude<DeviceState, "destroyed">;

export interface CallSnapshot {
  from: string;
  status: VoiceCallStatus;
  muted: boolean;
}

/** Everything the UI shows about the softphone: plain data, replaced (never mutated) on change. */
export interface SoftphoneSnapshot {
  status: SoftphoneStatus;
  microphone: MicrophoneState;
  problem: Problem | null;
  call: CallSnapshot | null;
}

export interface SoftphoneDependencies {
  createDevice: VoiceDeviceFactory;
  microphone: MicrophoneAccess;
  getVoiceToken: () => Promise<VoiceToken>;
  getConfig: () => Promise<AppConfig>;
}

const RETRY_REFRESH_MS = 30_000;

const INITIAL: SoftphoneSnapshot = { status: "off", microphone: "unknown", problem: null, call: null };

/**
 * Owns the voice device, its token renewal and the current call, outside React: the provider
 * holds one instance and components read its snapshot through hooks.
 */
export class Softphone {
  readonly #deps: SoftphoneDependencies;
  readonly #listeners = new Set<() => void>();
  #snapshot = INITIAL;
  #device: VoiceDevice | null = null;
  #deviceSubscriptions: Unsubscribe[] = [];
  #call: VoiceCall | null = null;
  #callSubscriptions: Unsubscribe[] = [];
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #refreshFailure: Problem | null = null;
  /** Bumped by every start and stop, so async work begun for an earlier start gives up. */
  #generation = 0;

  constructor(deps: SoftphoneDependencies) {
    this.#deps = deps;
  }

  readonly subscribe = (listener: () => void): Unsubscribe => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): SoftphoneSnapshot => this.#snapshot;

  watchMicrophone(): Unsubscribe {
    return this.#deps.microphone.watch((microphone) => {
      this.#update({ microphone });
    });
  }

  /** Call from a click: browsers only let a page use audio after a user gesture. */
  async start(): Promise<void> {
    this.#teardown();
    const generation = ++this.#generation;
    const superseded = () => generation !== this.#generation;
    this.#update({ status: "starting", problem: null, call: null });
    try {
      const microphone = await this.#deps.microphone.request();
      if (superseded()) return;
      const problem = microphoneProblem(microphone);
      this.#update(problem === null ? { microphone } : { microphone, problem, status: "off" });
      if (problem !== null) return;

      const [config, token] = await Promise.all([this.#deps.getConfig(), this.#deps.getVoiceToken()]);
      if (superseded()) return;
      const device = await this.#deps.createDevice(config.voice_mode, token.token);
      if (superseded()) {
        device.destroy();
        return;
      }
      this.#attach(device);
      this.#scheduleRefresh(token.expires_at);
      await device.register();
    } catch (error) {
      if (superseded()) return;
      this.#teardown();
      this.#update({ status: "off", problem: startProblem(error) });
    }
  }

  /** Destroys the device (hanging up any call); also what the provider does on unmount. */
  stop(): void {
    this.#generation++;
    this.#teardown();
    this.#update({ status: "off", problem: null, call: null });
  }

  accept(): void {
    this.#call?.accept();
    this.#publishCall();
  }

  reject(): void {
    this.#call?.reject();
  }

  hangUp(): void {
    this.#call?.disconnect();
  }

  setMuted(muted: boolean): void {
    this.#call?.mute(muted);
  }

  dismissProblem(): void {
    this.#update({ problem: null });
  }

  #update(change: Partial<SoftphoneSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    this.#listeners.forEach((listener) => listener());
  }

  #attach(device: VoiceDevice): void {
    this.#device = device;
    this.#deviceSubscriptions = [
      device.on("state", (state) => {
        this.#onDeviceState(state);
      }),
      device.on("incoming", (call) => {
        this.#onIncoming(call);
      }),
      device.on("error", (error) => {
        this.#update({ problem: voiceErrorProblem(error) });
      }),
      device.on("tokenWillExpire", () => void this.#refreshToken()),
    ];
    this.#onDeviceState(device.state);
  }

  #onDeviceState(state: DeviceState): void {
    if (state === "destroyed") {
      // Destroyed behind our back (the SDK does so when the page unloads): nothing left to destroy.
      this.#device = null;
      this.stop();
      return;
    }
    this.#update({ status: state });
  }

  /** Unsubscribes before destroying, so the device's last events don't reach a torn-down softphone. */
  #teardown(): void {
    clearTimeout(this.#refreshTimer);
    this.#releaseCall();
    this.#deviceSubscriptions.forEach((unsubscribe) => unsubscribe());
    this.#deviceSubscriptions = [];
    this.#device?.destroy();
    this.#device = null;
  }

  #onIncoming(call: VoiceCall): void {
    if (this.#call !== null) {
      // One call at a time. Rejecting (Twilio sees "busy") lets routing offer it to someone else.
      call.reject();
      return;
    }
    this.#call = call;
    const publish = () => {
      this.#publishCall();
    };
    const end = () => {
      this.#releaseCall();
      this.#update({ call: null });
    };
    this.#callSubscriptions = [
      call.on("accept", publish),
      call.on("mute", publish),
      call.on("disconnect", end),
      call.on("cancel", end),
      call.on("reject", end),
      call.on("error", (error) => {
        this.#update({ problem: voiceErrorProblem(error) });
      }),
    ];
    publish();
  }

  #publishCall(): void {
    const call = this.#call;
    if (call !== null)
      this.#update({ call: { from: call.from, status: call.status(), muted: call.isMuted() } });
  }

  #releaseCall(): void {
    this.#callSubscriptions.forEach((unsubscribe) => unsubscribe());
    this.#callSubscriptions = [];
    this.#call = null;
  }

  /** Our own timer from `expires_at`: the SDK's tokenWillExpire fires only once per device. */
  #scheduleRefresh(expiresAt: string): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(
      () => void this.#refreshToken(),
      refreshDelayMs(Date.parse(expiresAt), Date.now()),
    );
  }

  async #refreshToken(): Promise<void> {
    const generation = this.#generation;
    try {
      const token = await this.#deps.getVoiceToken();
      if (generation !== this.#generation || this.#device === null) return;
      this.#device.updateToken(token.token);
      this.#scheduleRefresh(token.expires_at);
      if (this.#refreshFailure !== null && this.#snapshot.problem === this.#refreshFailure) {
        this.#update({ problem: null });
      }
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#refreshFailure = refreshProblem(error);
      this.#update({ problem: this.#refreshFailure });
      clearTimeout(this.#refreshTimer);
      this.#refreshTimer = setTimeout(() => void this.#refreshToken(), RETRY_REFRESH_MS);
    }
  }
}
