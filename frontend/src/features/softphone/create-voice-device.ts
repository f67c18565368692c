import { UnsupportedVoiceModeError } from "./problems";
import type { VoiceDeviceFactory } from "./voice-device";

/**
 * Picks the device for the server's voice mode. Each implementation is loaded on demand, so the
 * Voice SDK stays out of the console's initial download until the agent starts the softphone.
 */
export const createVoiceDevice: VoiceDeviceFactory = async (mode, token) => {
  switch (mode) {
    case "twilio": {
      const { TwilioVoiceDevice } = await import("./twilio-device");
      return new TwilioVoiceDevice(token);
    }
    case "simulated": {
      const { SimulatedVoiceDevice } = await import("./simulated-device");
      return new SimulatedVoiceDevice(token);
    }
    default:
      throw new UnsupportedVoiceModeError(
        `The server runs in voice mode "${String(mode)}", which this console can't drive.`,
      );
  }
};
