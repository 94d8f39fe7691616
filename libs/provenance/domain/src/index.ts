/**
 * @alliance/provenance/domain — provenance rules without framework code. The CBV 2.0 EPCIS Event
 * Hash ID of captured EPCIS 2.0 JSON / JSON-LD events (see README.md).
 */
export { eventHashId, eventPreHashString, CANONICAL_PROPERTY_ORDER, EVENT_HASH_CBV_VERSION } from './event-hash';
export type { EventHashOptions } from './event-hash';
export { normaliseGs1Identifier, gs1CheckDigit } from './dl-normaliser';
export { eventsOf, MAX_REPORTED_PROBLEMS, validateEpcisDocument } from './epcis-document';
export type { EpcisProblem, EpcisValidation } from './epcis-document';
export { parseGs1Key } from './identifiers';
export type { Gs1Key, Gs1KeyKind, Gs1KeyResult } from './identifiers';
export { canonicalId, canonicalTerm, type EpcRole, type EventIndex, indexEvent, type IndexedEpc, type IndexedSensorReport, type LineageEdge, type LineageKind, TRANSFORMATION_NODE_PREFIX } from './event-index';
export { BIZ_STEP_TERMS, DISPOSITION_TERMS, SOURCE_DESTINATION_TYPE_TERMS, BIZ_TRANSACTION_TYPE_TERMS, MEASUREMENT_TYPE_TERMS, type VocabularyTerms } from './cbv-vocabulary';
export { alertOf, compareDecimal, dispositionEventOf, evaluateRule, measurementsOf, ruleAppliesTo, sensorEventOf } from './sensor-rules';
export type { DeviceMeasurement, EpcisEventObject, SensorAlert, SensorBreach, SensorMeasurement } from './sensor-rules';
export {
  ALLIANCE_EPCIS_NAMESPACE,
  disclosePrivate,
  MAX_PRIVATE_GROUPS,
  MAX_PRIVATE_READERS,
  mayReadPrivate,
  openCommitment,
  PRIVATE_DATA,
  PRIVATE_MARK,
  PRIVATE_SALT_BYTES,
  privateCommitment,
  privateReferencesOf,
  PUBLIC_ONLY_FIELDS,
  splitPrivate,
} from './private-data';
export type { PrivateDataReference, PrivateGroup, PrivateSplit } from './private-data';
export { isMasterDataType, masterDataAttributeName, masterDataElementOf, masterDataIdOf, type MasterDataElement, type MasterDataResult } from './master-data';
