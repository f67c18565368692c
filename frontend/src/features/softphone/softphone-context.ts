import { createContext } from "react";

import type { Softphone } from "./softphone";

export const SoftphoneContext = createContext<Softphone | null>(null);
