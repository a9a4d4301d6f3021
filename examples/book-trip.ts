/**
 * A trip booking as a saga: each booking declares how to undo it (compensate), the car has a fallback
 * supplier, and if a later step fails (or the flow is cancelled) the bookings made so far are undone,
 * newest first, each as a durable step.
 */
import { z } from "zod";
import { NonRetriableError, onScheduledFlow, run } from "../src/index.js";

export const bookTrip = onScheduledFlow(
  {
    name: "bookTrip",
    input: z.object({ traveller: z.string(), hotelFull: z.boolean().default(false) }),
    output: z.object({ flight: z.string(), car: z.string(), hotel: z.string() }),
  },
  async ({ traveller, hotelFull }) => {
    const flight = await run({ name: "book-flight", compensate: (ref) => console.log(`  cancelling flight ${ref}`) }, () => `FL-${traveller}`);
    const car = await run(
      {
        name: "book-car",
        retryConfig: { maxAttempts: 2, minBackoffSeconds: 1 },
        fallback: () => `BUDGET-CAR-${traveller}`,
        compensate: (ref) => console.log(`  returning car ${ref}`),
      },
      () => {
        throw new Error("premium car supplier is down");
      },
    );
    const hotel = await run({ name: "book-hotel", compensate: (ref) => console.log(`  cancelling hotel ${ref}`) }, () => {
      if (hotelFull) throw new NonRetriableError("no rooms left");
      return `HOTEL-${traveller}`;
    });
    return { flight, car, hotel };
  },
);
