export { TransferPanel } from "./components/transfer-panel";
