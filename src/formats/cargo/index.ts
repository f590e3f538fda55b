import type { FormatModule } from '../format-module.js';
import { cargoHandler } from './cargo-handler.js';
import { CARGO_PREFIX, cargoRoutes } from './routes/cargo.js';
import { cargoRenderer } from './routes/cargo-errors.js';
import { CargoService } from './service/cargo-service.js';

/** Cargo: the sparse registry protocol and the registry web API under `/artifactory/api/cargo/{repo}`. */
export const cargo: FormatModule<CargoService> = {
  name: 'cargo',
  handler: cargoHandler,
  service: (deps) => new CargoService(deps),
  protocol: { prefixes: [CARGO_PREFIX], routes: cargoRoutes, errors: cargoRenderer },
};
