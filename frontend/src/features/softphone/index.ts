export { SoftphonePanel } from "./components/softphone-panel";
export { SoftphoneProvider } from "./softphone-provider";
export { useSoftphone, useSoftphoneState } from "./use-softphone";
