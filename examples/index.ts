/** Every example flow, for the example runner and the functions codebase. */
export { approveOrder } from "./approve-order.js";
export { onboardUser, provisionWorkspace } from "./onboarding.js";
export { dagReport } from "./dag-report.js";
export { bookTrip } from "./book-trip.js";
export { supportTicket } from "./support-ticket.js";
export { nightlyReport, regionReport } from "./nightly-report.js";
