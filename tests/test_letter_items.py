"""Item lines read by kind of sentence, each with several phrasings (written here, not
copied from letters): a frequency range is read at its lower end; "x 4 weeks" is a
duration, never a count; synonyms of physical therapy, walking aids, supports, heat and
spelled-out test names map to their treatment; a device name ("knee scooter") names no
body part; the pelvis is the hip and pelvis region (ODG Hip and Pelvis chapter)."""

from __future__ import annotations

import pytest

from reasoner.letters.items import parse_item


@pytest.mark.parametrize("line, per_week, weeks, quantity", [
    ("Acupuncture 1 to 2 times per week for 4 weeks for the neck", 1, 4, 4),
    ("Physical therapy 1-2 times a week for 6 weeks, lumbar spine", 1, 6, 6),
    ("Chiropractic care 2 to 3 times a week for 3 weeks", 2, 3, 6),
    ("PT 2-3x/week x 4 weeks", 2, 4, 8),
    ("Chiropractic 1-2x4 low back", 1, 4, 4),
    ("Physical therapy 2 or 3 times per week for 2 weeks", 2, 2, 4),
])
def test_a_frequency_range_is_read_at_its_lower_end(line, per_week, weeks, quantity):
    item = parse_item(line)
    assert (item.frequency_per_week, item.duration_weeks, item.quantity) == (per_week, weeks, quantity)


@pytest.mark.parametrize("line, quantity", [
    ("PT 2x/week x 4 weeks", 8),
    ("Physical therapy 3 times a week x 4 wks", 12),
    ("Occupational therapy 2 times per week times 3 weeks", 6),
    ("Chiropractic x 6", 6),
    ("PT times 6", 6),
])
def test_a_duration_after_x_is_not_a_count(line, quantity):
    assert parse_item(line).quantity == quantity


@pytest.mark.parametrize("line, treatment", [
    ("Four sessions of therapeutic exercise two times a week times 2 weeks", "PhysicalTherapy"),
    ("Therapeutic exercises 2x3 for the shoulder", "PhysicalTherapy"),
    ("Therapeutic activities x 6", "PhysicalTherapy"),
    ("Neuromuscular re-education x 4", "PhysicalTherapy"),
    ("Infrared therapy x 4 to the low back", "InfraredTherapy"),
    ("Six sessions of infra-red treatment", "InfraredTherapy"),
    ("Infrared laser treatments x 6", "LowLevelLaserTherapy"),  # a laser first
    ("Thermography of the upper extremities", "Thermography"),
    ("1 knee scooter", "MobilityAid"),
    ("Purchase of crutches", "MobilityAid"),
    ("Wheelchair rental for 1 month", "MobilityAid"),
    ("Front-wheeled walker", "MobilityAid"),
    ("Single point cane", "MobilityAid"),
    ("Back support", "LumbarSupport"),
    ("Lumbosacral orthosis", "LumbarSupport"),
    ("Lumbar corset", "LumbarSupport"),
    ("Heating pad for the low back", "HeatTherapy"),
    ("Hot packs x 6", "HeatTherapy"),
    ("Hot/cold packs", "HotColdTherapy"),
    ("Computerized tomography of the lumbar spine", "ComputedTomography"),
    ("Computed axial tomography of the head", "ComputedTomography"),
])
def test_synonyms_map_to_their_treatment(line, treatment):
    assert parse_item(line).treatment == treatment


@pytest.mark.parametrize("line, regions", [
    ("1 knee scooter", []),
    ("Knee walker rental", []),
    ("Knee brace", ["Knee"]),
    ("MRI of the pelvis", ["Hip"]),
    ("X-ray of the right hip and pelvis", ["Hip"]),
    ("CT of the abdomen", ["Abdomen"]),
])
def test_regions_of_the_line(line, regions):
    assert parse_item(line).regions == regions


@pytest.mark.parametrize("line, treatment", [
    ("TOC to ortho spine surgeon eval and treatment", "SurgicalConsultation"),
    ("Spine surgery evaluation for the lumbar spine", "SurgicalConsultation"),
    ("Consultation with a spine surgeon", "SurgicalConsultation"),
    ("Neurosurgical consultation for the cervical spine", "SurgicalConsultation"),
    ("Referral to an orthopedic surgeon", "SurgicalConsultation"),
    ("Surgical consultation for the left hip", "SurgicalConsultation"),
    ("Consult with hip replacement specialist", "OfficeVisit"),
    ("Follow-up visits x 3", "OfficeVisit"),
    ("Pain management consultation", "OfficeVisit"),
])
def test_a_visit_with_a_surgeon_is_a_surgical_consultation(line, treatment):
    assert parse_item(line).treatment == treatment


@pytest.mark.parametrize("line, treatment", [
    ("Four sessions of electrical stimulation two times a week times 2 weeks", "ElectricalStimulationSessions"),
    ("Electrical stimulation sessions x 6 to the low back", "ElectricalStimulationSessions"),
    ("E-stim x 4", "ElectricalStimulationSessions"),
    ("TENS unit 30 day rental", "TENS"),
    ("Electrical stimulation unit purchase", "TENS"),
    ("Interferential unit", "TENS"),
])
def test_stimulation_sessions_are_a_clinic_modality_and_a_unit_is_tens(line, treatment):
    assert parse_item(line).treatment == treatment


@pytest.mark.parametrize("line, treatment", [
    ("Associated surgical service: Arc sling", "AbductionPillowSling"),
    ("Ultrasling", "AbductionPillowSling"),
    ("Shoulder sling with abduction pillow", "AbductionPillowSling"),
    ("Abduction pillow for the right shoulder", "AbductionPillowSling"),
    ("Associated surgical service: sling", "PostoperativeSling"),
])
def test_an_abduction_pillow_sling_is_told_from_a_standard_sling(line, treatment):
    assert parse_item(line).treatment == treatment


@pytest.mark.parametrize("line, treatment", [
    ("DME", "UnnamedEquipment"),
    ("Durable medical equipment (DME) for the lumbar spine", "UnnamedEquipment"),
    ("Associated surgical service: DME", "UnnamedEquipment"),
    ("Purchase of durable medical equipment", "UnnamedEquipment"),
    ("DME rental for the right knee", "UnnamedEquipment"),
    ("Durable medical equipment for the cervical and lumbar spine", "UnnamedEquipment"),
    ("DME for bilateral knees", "UnnamedEquipment"),
    ("DME for home use", "UnnamedEquipment"),
    ("DME: shower chair", "DurableMedicalEquipment"),  # a device is named, one the KB does not know
    ("DME for the shower chair", "DurableMedicalEquipment"),  # after "for": a device, not a place
    ("DME for the hot/cold unit", "DurableMedicalEquipment"),
    ("Hip pad", "DurableMedicalEquipment"),
    ("Bedside commode", "Commode"),
    ("3-in-1 commode purchase", "Commode"),
    ("Gloves, one box", "DisposableMedicalSupply"),
    ("Disposable wipes", "DisposableMedicalSupply"),
])
def test_equipment_is_named_unnamed_or_a_disposable_supply(line, treatment):
    assert parse_item(line).treatment == treatment
