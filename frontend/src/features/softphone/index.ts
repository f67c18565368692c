export { SoftphonePanel } from "./components/softphone-panel";
export { SoftphoneProvider } from "./softphone-provider";
export { useSoftphoneState } from "./use-softphone";
