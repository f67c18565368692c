export { meQueryOptions } from "./api/get-me";
export { AvailabilityToggle } from "./components/availability-toggle";
