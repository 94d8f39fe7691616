/**
 * The bare-word vocabulary terms the EPCIS 2.0 JSON-LD context
 * (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld, the copy the reference implementation
 * loads, in which the `gs1` prefix is https://ref.gs1.org/voc/) defines for the properties typed `@vocab`,
 * each with the IRI prefix its terms expand to. Generated from that context; data, not logic.
 */
export interface VocabularyTerms {
  readonly iriPrefix: string;
  readonly terms: readonly string[];
}

/** `bizStep` (CBV 2.0 §7.1). */
export const BIZ_STEP_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/BizStep-',
  terms: [
    'accepting', 'arriving', 'assembling', 'collecting', 'commissioning', 'consigning', 'creating_class_instance',
    'cycle_counting', 'decommissioning', 'departing', 'destroying', 'disassembling', 'dispensing', 'encoding',
    'entering_exiting', 'holding', 'inspecting', 'installing', 'killing', 'loading', 'other', 'packing', 'picking',
    'receiving', 'removing', 'repackaging', 'repairing', 'replacing', 'reserving', 'retail_selling', 'sampling',
    'sensor_reporting', 'shipping', 'staging_outbound', 'stock_taking', 'stocking', 'storing', 'transporting',
    'unloading', 'unpacking', 'void_shipping',
  ],
};

/** `disposition` and `persistentDisposition` `set`/`unset` (CBV 2.0 §7.2). */
export const DISPOSITION_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/Disp-',
  terms: [
    'active', 'available', 'completeness_verified', 'completeness_inferred', 'conformant', 'container_closed',
    'container_open', 'damaged', 'destroyed', 'dispensed', 'disposed', 'encoded', 'expired', 'in_progress',
    'in_transit', 'inactive', 'mismatch_instance', 'mismatch_class', 'mismatch_quantity', 'needs_replacement',
    'no_pedigree_match', 'non_conformant', 'non_sellable_other', 'partially_dispensed', 'recalled', 'reserved',
    'retail_sold', 'returned', 'sellable_accessible', 'sellable_not_accessible', 'stolen', 'unavailable', 'unknown',
  ],
};

/** `type` of a `sourceList`/`destinationList` entry (CBV 2.0 §7.4). */
export const SOURCE_DESTINATION_TYPE_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/SDT-',
  terms: [
    'owning_party', 'possessing_party', 'location',
  ],
};

/** `type` of a `bizTransactionList` entry (CBV 2.0 §7.3). */
export const BIZ_TRANSACTION_TYPE_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/BTT-',
  terms: [
    'bol', 'cert', 'desadv', 'inv', 'pedigree', 'po', 'poc', 'prodorder', 'recadv', 'rma', 'testprd', 'testres',
    'upevt',
  ],
};

/** `type` of a `sensorReport` (GS1 Web Vocabulary measurement types). */
export const MEASUREMENT_TYPE_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/voc/',
  terms: [
    'AbsoluteHumidity', 'AbsorbedDose', 'AbsorbedDoseRate', 'Acceleration', 'Radioactivity', 'Altitude',
    'AmountOfSubstance', 'AmountOfSubstancePerUnitVolume', 'Angle', 'AngularAcceleration', 'AngularMomentum',
    'AngularVelocity', 'Area', 'Capacitance', 'Conductance', 'Conductivity', 'Count', 'Density', 'Dimensionless',
    'DoseEquivalent', 'DoseEquivalentRate', 'DynamicViscosity', 'ElectricCharge', 'ElectricCurrent',
    'ElectricCurrentDensity', 'ElectricFieldStrength', 'Energy', 'Exposure', 'Force', 'Frequency', 'Illuminance',
    'Inductance', 'Irradiance', 'KinematicViscosity', 'Length', 'LinearMomentum', 'Luminance', 'LuminousFlux',
    'LuminousIntensity', 'MagneticFlux', 'MagneticFluxDensity', 'MagneticVectorPotential', 'Mass',
    'MassConcentration', 'MassFlowRate', 'MassPerAreaTime', 'MemoryCapacity', 'MolalityOfSolute', 'MolarEnergy',
    'MolarMass', 'MolarVolume', 'Power', 'Pressure', 'RadiantFlux', 'RadiantIntensity', 'RelativeHumidity',
    'Resistance', 'Resistivity', 'SolidAngle', 'SpecificVolume', 'Speed', 'SurfaceDensity', 'SurfaceTension',
    'Temperature', 'Time', 'Torque', 'Voltage', 'Volume', 'VolumeFlowRate', 'VolumeFraction', 'VolumetricFlux',
    'Wavenumber',
  ],
};

/** `exception` of a `sensorReport`. */
export const EXCEPTION_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/voc/',
  terms: [
    'ALARM_CONDITION', 'ERROR_CONDITION',
  ],
};

/** `component` of a `sensorReport` (CBV 2.0 §7.7). */
export const COMPONENT_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/Comp-',
  terms: [
    'x', 'y', 'z', 'axial_distance', 'azimuth', 'height', 'spherical_radius', 'polar_angle', 'elevation_angle',
    'easting', 'northing', 'latitude', 'longitude', 'altitude',
  ],
};

/** `reason` of an `errorDeclaration` (CBV 2.0 §7.5). */
export const ERROR_REASON_TERMS: VocabularyTerms = {
  iriPrefix: 'https://ref.gs1.org/cbv/ER-',
  terms: [
    'did_not_occur', 'incorrect_data',
  ],
};
