/**
 * The backend's JSON contract, as the console names it. `api.gen.ts` is generated from the
 * backend's OpenAPI description (`make api-types`); CI fails when the two drift apart.
 */
import type { components } from "./api.gen";

export type { components };

type Schemas = components["schemas"];

export type ErrorBody = Schemas["ErrorBody"];
export type Availability = Schemas["Availability"];
export type Presence = Schemas["Presence"];
export type Agent = Schemas["AgentOut"];
export type LoginResponse = Schemas["LoginOut"];
export type AvailabilityRequest = Schemas["AvailabilityIn"];
export type VoiceToken = Schemas["VoiceTokenOut"];
export type VoiceMode = Schemas["VoiceMode"];
export type AppConfig = Schemas["ConfigOut"];
export type Leg = Schemas["LegOut"];
export type Transfer = Schemas["TransferOut"];
export type TransferStatus = Schemas["TransferStatus"];
export type Call = Schemas["CallOut"];
export type CallStatus = Schemas["CallStatus"];
export type LegStatus = Schemas["LegStatus"];
export type CallPage = Schemas["CallPage"];
export type TransferRequest = Schemas["TransferIn"];
export type HoldRequest = Schemas["HoldIn"];
export type LegRole = Schemas["LegRole"];
export type TransferMode = Schemas["TransferMode"];
export type Ticket = Schemas["TicketOut"];
/** Simulated voice mode only: the built-in Twilio simulator's customers. */
export type CustomerCall = Schemas["CustomerCallOut"];
export type CustomerCallRequest = Schemas["CustomerCallIn"];
/** One entry of a call's timeline: a Twilio callback as received. */
export type TimelineEvent = Schemas["CallEventOut"];

// The event stream's payloads (each event's JSON `data`, by event name).
export type HelloEvent = Schemas["HelloEvent"];
export type DirectoryEvent = Schemas["DirectoryEvent"];
export type AgentsEvent = Schemas["AgentsEvent"];
export type QueueEvent = Schemas["QueueEvent"];
export type CallEvent = Schemas["CallEvent"];
