// Is a service missing (not installed), as opposed to broken? Named in the contract (the
// notifications use it too); re-exported here for setup.

export { MISSING, serviceMissing } from '../contract.js';
