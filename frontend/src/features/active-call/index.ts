export { ActiveCallPanel, type SoftphoneLeg } from "./components/active-call-panel";
export { IncomingCallBanner } from "./components/incoming-call-banner";
