import { act, renderHook, screen, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { useSyncExternalStore, type ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { sessionStore } from "../../lib/session";
import { FakeVoiceCall, fakeDeviceFactory, fakeMicrophone } from "../../testing/fake-voice-device";
import { config, signIn } from "../../testing/fixtures";
import { errorResponse, voiceToken } from "../../testing/handlers";
import { renderWithProviders } from "../../testing/render";
import { server } from "../../testing/server";
import { SoftphonePanel } from "./components/softphone-panel";
import { SoftphoneProvider } from "./softphone-provider";
import { useSoftphoneState } from "./use-softphone";

/** Mounts its children only while logged in, as the app's shell does. */
function LoggedIn({ children }: { children: ReactNode }) {
  const { session } = useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
  return session === null ? <p>Logged out</p> : children;
}

function renderSoftphone({
  microphone = fakeMicrophone(),
  fakeTimers = false,
}: { microphone?: ReturnType<typeof fakeMicrophone>; fakeTimers?: boolean } = {}) {
  signIn();
  const factory = fakeDeviceFactory();
  const utils = renderWithProviders(
    <LoggedIn>
      <SoftphoneProvider createDevice={factory.createDevice} microphone={microphone}>
        <SoftphonePanel />
      </SoftphoneProvider>
    </LoggedIn>,
    { userEventOptions: fakeTimers ? { advanceTimers: vi.advanceTimersByTime } : {} },
  );
  return { ...utils, factory, microphone };
}

async function startSoftphone(utils: ReturnType<typeof renderSoftphone>) {
  await utils.user.click(screen.getByRole("button", { name: "Start softphone" }));
  await screen.findByText("Ready");
  return utils.factory.latest();
}

function tokenRequests() {
  const requests: string[] = [];
  server.events.on("request:start", ({ request }) => {
    if (new URL(request.url).pathname === "/api/voice/token") requests.push(request.method);
  });
  return requests;
}

afterEach(() => {
  vi.useRealTimers();
  server.events.removeAllListeners();
});

describe("SoftphoneProvider", () => {
  it("refuses to be used outside its provider", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(() => renderHook(() => useSoftphoneState())).toThrow("inside <SoftphoneProvider>");
  });

  it("creates and registers the device only when the agent presses Start", async () => {
    const utils = renderSoftphone();
    expect(screen.getByText("Off")).toBeInTheDocument();
    expect(utils.factory.createDevice).not.toHaveBeenCalled();

    const device = await startSoftphone(utils);

    expect(utils.microphone.request).toHaveBeenCalledOnce();
    expect(utils.factory.createDevice).toHaveBeenCalledWith(config.voice_mode, device.token);
    expect(device.token).toMatch(/^voice-token-/);
    expect(device.register).toHaveBeenCalledOnce();
    expect(screen.getByText("Calls for you ring here.")).toBeInTheDocument();
  });

  it("shows the device losing its registration", async () => {
    const device = await startSoftphone(renderSoftphone());

    act(() => {
      device.setState("unregistered");
    });

    expect(screen.getByText("Not connected")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Start softphone" })).toBeInTheDocument();
  });

  it("goes back to off when the SDK destroys the device itself", async () => {
    const device = await startSoftphone(renderSoftphone());

    act(() => {
      device.setState("destroyed");
    });

    expect(screen.getByText("Off")).toBeInTheDocument();
    expect(device.listenerCount()).toBe(0);
  });

  it("stops: destroys the device and lets go of it", async () => {
    const utils = renderSoftphone();
    const device = await startSoftphone(utils);

    await utils.user.click(screen.getByRole("button", { name: "Stop softphone" }));

    expect(device.destroy).toHaveBeenCalledOnce();
    expect(device.listenerCount()).toBe(0);
    expect(screen.getByText("Off")).toBeInTheDocument();
  });

  describe("token renewal", () => {
    it("renews the token from expires_at, before it expires, again and again", async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      // Two-minute tokens: renewed halfway, 60 s before they expire.
      server.use(http.post("/api/voice/token", () => HttpResponse.json(voiceToken(120_000))));
      const requests = tokenRequests();
      const device = await startSoftphone(renderSoftphone({ fakeTimers: true }));
      const firstToken = device.token;
      expect(requests).toHaveLength(1);

      await act(() => vi.advanceTimersByTimeAsync(59_000));
      expect(device.updateToken).not.toHaveBeenCalled();

      await act(() => vi.advanceTimersByTimeAsync(1_500));
      await waitFor(() => expect(device.updateToken).toHaveBeenCalledOnce());
      const renewed = device.updateToken.mock.calls[0]?.[0];
      expect(renewed).toMatch(/^voice-token-/);
      expect(renewed).not.toBe(firstToken);

      await act(() => vi.advanceTimersByTimeAsync(61_000));
      await waitFor(() => expect(device.updateToken).toHaveBeenCalledTimes(2));
      expect(requests).toHaveLength(3);
    });

    it("renews at once when the SDK warns that the token will expire", async () => {
      const device = await startSoftphone(renderSoftphone());

      act(() => {
        device.emit("tokenWillExpire");
      });

      await waitFor(() => expect(device.updateToken).toHaveBeenCalledOnce());
    });

    it("says so when renewing fails, and retries", async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      server.use(http.post("/api/voice/token", () => HttpResponse.json(voiceToken(120_000))));
      const device = await startSoftphone(renderSoftphone({ fakeTimers: true }));
      server.use(
        http.post("/api/voice/token", () => errorResponse(502, "upstream_error", "Twilio is down."), {
          once: true,
        }),
      );

      await act(() => vi.advanceTimersByTimeAsync(61_000));
      expect(
        await screen.findByText("Couldn't renew the softphone's access (Twilio is down.)."),
      ).toBeInTheDocument();
      expect(device.updateToken).not.toHaveBeenCalled();

      await act(() => vi.advanceTimersByTimeAsync(30_000));
      await waitFor(() => expect(device.updateToken).toHaveBeenCalledOnce());
      expect(screen.queryByText(/Couldn't renew/)).not.toBeInTheDocument();
    });
  });

  describe("problems in plain words", () => {
    it("doesn't start when the browser blocks the microphone", async () => {
      const utils = renderSoftphone({ microphone: fakeMicrophone("denied") });
      const requests = tokenRequests();

      await utils.user.click(screen.getByRole("button", { name: "Start softphone" }));

      expect(await screen.findByText("The browser blocked the microphone.")).toBeInTheDocument();
      expect(screen.getByText(/Allow microphone access for this site/)).toBeInTheDocument();
      expect(utils.factory.createDevice).not.toHaveBeenCalled();
      expect(requests).toHaveLength(0);
      expect(screen.getByText("Off")).toBeInTheDocument();
    });

    it("shows the microphone permission as the browser reports it", () => {
      const { microphone } = renderSoftphone();
      expect(screen.getByText(/The browser will ask for it/)).toBeInTheDocument();

      act(() => {
        microphone.change("denied");
      });

      expect(screen.getByText(/Blocked\. Allow it for this site/)).toBeInTheDocument();
    });

    it("explains a failed token request", async () => {
      server.use(
        http.post("/api/voice/token", () => errorResponse(502, "upstream_error", "Twilio is down.")),
      );
      const utils = renderSoftphone();

      await utils.user.click(screen.getByRole("button", { name: "Start softphone" }));

      expect(
        await screen.findByText("Couldn't get the softphone's access from the server: Twilio is down."),
      ).toBeInTheDocument();
      expect(utils.factory.createDevice).not.toHaveBeenCalled();
      expect(screen.getByText("Off")).toBeInTheDocument();
    });

    it("explains SDK errors by their code, until dismissed", async () => {
      const utils = renderSoftphone();
      const device = await startSoftphone(utils);

      act(() => {
        device.emit("error", { code: 31205, message: "JWT token expired" });
      });

      expect(screen.getByText("The softphone's access expired or was refused.")).toBeInTheDocument();
      expect(screen.getByText("Press “Start softphone” to try again.")).toBeInTheDocument();
      await utils.user.click(screen.getByRole("button", { name: /dismiss/i }));
      expect(screen.queryByText("The softphone's access expired or was refused.")).not.toBeInTheDocument();
    });

    it("says when the server's voice mode isn't one this console knows", async () => {
      server.use(
        http.get("/api/config", () => HttpResponse.json({ ...config, voice_mode: "carrier-pigeon" })),
      );
      signIn();
      const { user } = renderWithProviders(
        <SoftphoneProvider microphone={fakeMicrophone()}>
          <SoftphonePanel />
        </SoftphoneProvider>,
      );

      await user.click(screen.getByRole("button", { name: "Start softphone" }));

      expect(
        await screen.findByText(/voice mode "carrier-pigeon", which this console can't drive/),
      ).toBeInTheDocument();
    });
  });

  describe("calls", () => {
    it("answers, mutes and hangs up an incoming call", async () => {
      const utils = renderSoftphone();
      const device = await startSoftphone(utils);
      const call = new FakeVoiceCall("+15551230000");

      act(() => {
        device.ring(call);
      });
      expect(screen.getByText("Incoming call from +15551230000")).toBeInTheDocument();

      await utils.user.click(screen.getByRole("button", { name: "Answer" }));
      expect(call.accept).toHaveBeenCalledOnce();
      expect(screen.getByText("On a call with +15551230000")).toBeInTheDocument();

      await utils.user.click(screen.getByRole("button", { name: "Mute" }));
      expect(call.mute).toHaveBeenCalledWith(true);
      expect(screen.getByRole("button", { name: "Unmute" })).toBeInTheDocument();

      await utils.user.click(screen.getByRole("button", { name: "Hang up" }));
      expect(call.disconnect).toHaveBeenCalledOnce();
      expect(screen.queryByRole("group", { name: "Current call" })).not.toBeInTheDocument();
      expect(call.listenerCount()).toBe(0);
    });

    it("declines an incoming call", async () => {
      const utils = renderSoftphone();
      const device = await startSoftphone(utils);
      const call = new FakeVoiceCall();
      act(() => {
        device.ring(call);
      });

      await utils.user.click(screen.getByRole("button", { name: "Decline" }));

      expect(call.reject).toHaveBeenCalledOnce();
      expect(screen.queryByRole("group", { name: "Incoming call" })).not.toBeInTheDocument();
    });

    it("stops ringing when the caller gives up", async () => {
      const device = await startSoftphone(renderSoftphone());
      const call = new FakeVoiceCall();
      act(() => {
        device.ring(call);
      });

      act(() => {
        call.emit("cancel");
      });

      expect(screen.queryByRole("group", { name: "Incoming call" })).not.toBeInTheDocument();
      expect(call.listenerCount()).toBe(0);
    });

    it("turns away a second call while one is up", async () => {
      const device = await startSoftphone(renderSoftphone());
      const first = new FakeVoiceCall("+15550000001");
      const second = new FakeVoiceCall("+15550000002");

      act(() => {
        device.ring(first);
      });
      act(() => {
        device.ring(second);
      });

      expect(second.reject).toHaveBeenCalledOnce();
      expect(first.reject).not.toHaveBeenCalled();
      expect(screen.getByText("Incoming call from +15550000001")).toBeInTheDocument();
    });
  });

  describe("logging out", () => {
    it("destroys the device and removes every listener it added", async () => {
      const utils = renderSoftphone();
      const device = await startSoftphone(utils);
      const call = new FakeVoiceCall();
      act(() => {
        device.ring(call);
      });
      expect(device.listenerCount()).toBeGreaterThan(0);
      expect(call.listenerCount()).toBeGreaterThan(0);

      act(() => {
        sessionStore.end("logout");
      });

      expect(screen.getByText("Logged out")).toBeInTheDocument();
      expect(device.destroy).toHaveBeenCalledOnce();
      expect(device.listenerCount()).toBe(0);
      expect(call.listenerCount()).toBe(0);
      expect(utils.microphone.watcherCount()).toBe(0);
    });

    it("never creates a device for a start still under way", async () => {
      let release: () => void = () => undefined;
      server.use(
        http.post("/api/voice/token", async () => {
          await new Promise<void>((resolve) => (release = resolve));
          return HttpResponse.json(voiceToken());
        }),
      );
      const requests = tokenRequests();
      const utils = renderSoftphone();
      await utils.user.click(screen.getByRole("button", { name: "Start softphone" }));
      await waitFor(() => expect(requests).toHaveLength(1));

      act(() => {
        sessionStore.end("logout");
      });
      release();

      // Long enough for the token's answer to reach the softphone.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(utils.factory.createDevice).not.toHaveBeenCalled();
    });
  });
});
