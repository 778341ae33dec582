import { internalError, main } from "./index.ts";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = internalError(e);
  },
);
