import { setupServer } from "msw/node";

import { handlers } from "./handlers";

/** The backend as the tests see it; a test changes one answer with `server.use(...)`. */
export const server = setupServer(...handlers);
