export { SimulatorPanel } from "./components/simulator-panel";
