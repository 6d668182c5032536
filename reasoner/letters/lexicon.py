"""Words of IMR item lines and case summaries, mapped to the ontology's terms.

Order matters: the first matching pattern wins, so specific names come before general
ones ("MR arthrogram" before "MRI", "Lidoderm" before "lidocaine"). Patterns are
case-insensitive regular expressions matched on word boundaries by the callers."""

from __future__ import annotations

# Body regions: (pattern, region local name); the first match decides per mention.
REGIONS: tuple[tuple[str, str], ...] = (
    (r"lumbosacral|lumbar|low(?:er)? back|L[1-5](?:-|/)(?:[L]?[1-5]|S1)|L5-S1", "LumbarSpine"),
    (r"cervical|neck|C[1-7]-C?[1-7]", "CervicalSpine"),
    (r"thoracic|mid[- ]back|upper back", "ThoracicSpine"),
    (r"shoulders?", "Shoulder"),
    (r"elbows?", "Elbow"),
    (r"wrists?", "Wrist"),
    (r"hands?|fingers?|thumbs?", "Hand"),
    (r"forearms?", "Forearm"),
    (r"hips?|pelvi[sc]", "Hip"),  # ODG's Hip and Pelvis chapter
    (r"knees?", "Knee"),
    (r"ankles?", "Ankle"),
    (r"feet|foot", "Foot"),
    (r"abdomen|groin|inguinal", "Abdomen"),
    (r"head\b|brain|skull", "Head"),
    (r"upper extremit\w*|\barms?\b", "UpperExtremity"),
    (r"lower extremit\w*|\blegs?\b", "LowerExtremity"),
)

# "strain of the left knee": the side between the article and the region
SIDE = r"(?:(?:left|right|bilateral) )?"

# What may follow an item that names no device and leaves it unnamed: "for the right knee",
# "for the cervical and lumbar spine", "for home use" (a device after "for" names it)
_REGION = "|".join(pattern for pattern, _ in REGIONS)
EQUIPMENT_PLACE = (rf"(?:\s+for\s+(?:the\s+)?(?:{SIDE}(?:{_REGION})(?:\s+spine)?"
                   rf"(?:\s*(?:,|and|&)\s*{SIDE}(?:{_REGION})(?:\s+spine)?)*|home\s+use))?")

# (pattern, treatment class local name)
TREATMENTS: tuple[tuple[str, str], ...] = (
    # associated surgical services and peri-operative care first: their names contain others
    (r"assistant (?:surgeon|PA)|PA assist|surgical assistant|assistant PA", "SurgicalAssistant"),
    (r"pre-?op(?:erative)?\.? (?:EKG|ECG)|EKG|ECG", "Electrocardiogram"),
    (r"PT/PTT|\bPTT\b|\bINR\b|coagulation (?:studies|panel|profile|tests?)|prothrombin", "CoagulationStudies"),
    (r"pre-?op(?:erative)?|medical clearance|chest x-?ray|\b(?:CBC|BMP|CMP|UA|urinalysis|chem panel)\b", "PreoperativeTesting"),
    (r"cold therapy|cryotherapy|vascutherm|game ready|polar care", "ContinuousFlowCryotherapy"),
    (r"(?:arc|ultra|abduction)\s*sling|abduction pillow|sling with (?:an? )?(?:abduction )?pillow", "AbductionPillowSling"),
    (r"\bsling\b", "PostoperativeSling"),
    (r"post[- ]?op(?:erative)? (?:physical therapy|PT)", "PhysicalTherapy"),
    # surgery
    (r"arthroscop\w*.*shoulder|shoulder.*arthroscop\w*|rotator cuff repair|SLAP|acromioplasty|subacromial decompression", "ShoulderSurgery"),
    (r"arthroscop\w*.*knee|knee.*arthroscop\w*|meniscectomy", "KneeSurgery"),
    (r"fusion|laminectomy|discectomy", "SpinalFusion"),
    # physical medicine
    (r"chiropract\w*", "ChiropracticManipulation"),
    (r"manipulation under anesthesia", "ManipulationUnderAnesthesia"),
    (r"manipulation|manual therapy", "ManualTherapy"),
    (r"acupunct\w*", "Acupuncture"),
    (r"massage", "MassageTherapy"),
    (r"aqua(?:tic)? therapy|pool therapy", "AquaticTherapy"),
    (r"work (?:hardening|conditioning)", "WorkConditioning"),
    (r"functional restoration|HELP program", "FunctionalRestorationProgram"),
    (r"partial hospitali[sz]ation", "PsychologicalTreatment"),
    # therapeutic exercise and activities are the active procedures of a physical therapy visit
    (r"PT/OT|physical therapy|physiotherapy|\bPT\b|therapeutic (?:exercises?|activit(?:y|ies))|neuromuscular re-?education",
     "PhysicalTherapy"),
    (r"occupational therapy|\bOT\b|hand therapy", "OccupationalTherapy"),
    (r"home exercise", "HomeExerciseProgram"),
    (r"shock ?wave|ESWT", "ShockWaveTherapy"),
    (r"H-?wave", "HWaveStimulation"),
    # sessions of stimulation in the clinic are a passive modality; a unit is for home use
    (r"(?:sessions?|visits?|treatments?) of (?:electrical|electric) stim\w*|(?:electrical|electric) stim\w* (?:sessions?|x\s*\d)|"
     r"\be-?stim\b", "ElectricalStimulationSessions"),
    (r"TENS|EMS unit|interferential|electrical stimulation", "TENS"),
    (r"ultrasound therapy|therapeutic ultrasound", "TherapeuticUltrasound"),
    (r"laser", "LowLevelLaserTherapy"),
    (r"thermograph\w*", "Thermography"),
    (r"infra-?red", "InfraredTherapy"),
    (r"traction|inversion table", "Traction"),
    (r"biofeedback", "Biofeedback"),
    # diagnostics
    (r"MR arthrogra\w*|arthrogram", "MRArthrogram"),
    (r"\bMRI\b|magnetic resonance", "MagneticResonanceImaging"),
    (r"\bCT\b|CAT scan|comput(?:ed|eri[sz]ed) (?:axial )?tomography", "ComputedTomography"),
    (r"x-?rays?|radiograph\w*|films", "XRay"),
    (r"bone scan", "BoneScan"),
    (r"ultrasound|sonogra\w*", "Ultrasonography"),
    (r"EMG/NC[SV]|NC[SV]/EMG|EMG and NC[SV]|electrodiagnostic", "ElectrodiagnosticTesting"),
    (r"\bEMG\b|electromyogra\w*", "Electromyography"),
    (r"\bNC[SV]\b|nerve conduction", "NerveConductionStudy"),
    (r"SSEP|evoked potential", "SomatosensoryEvokedPotentials"),
    (r"\bEEG\b", "Electroencephalography"),
    (r"urine (?:drug )?(?:test|screen)|\bUDT\b|drug screen|urine toxicology", "UrineDrugTest"),
    (r"functional capacity|\bFCE\b", "FunctionalCapacityEvaluation"),
    (r"range of motion testing|grip strength", "RangeOfMotionTesting"),
    # injections
    (r"epidural|\bESI\b|transforaminal", "EpiduralSteroidInjection"),
    (r"medial branch", "MedialBranchBlock"),
    (r"radiofrequency|rhizotomy|neurotomy", "RadiofrequencyNeurotomy"),
    (r"facet", "FacetJointInjection"),
    (r"platelet[- ]rich|\bPRP\b", "PlateletRichPlasma"),
    (r"adhesiolysis|neuroplasty", "PercutaneousAdhesiolysis"),
    (r"trigger point", "TriggerPointInjection"),
    (r"injection|cortisone|steroid shot|dexamethasone", "CorticosteroidJointInjection"),
    # equipment and services
    (r"lumbar support|back (?:brace|support)|LSO\b|lumbar (?:brace|corset)|lumbo-?sacral orthosis|lumbar orthosis", "LumbarSupport"),
    (r"knee (?:scooter|walker)|crutch(?:es)?|wheel ?chair|rollator|\bwalker\b|\bcane\b", "MobilityAid"),
    (r"heat(?:ing)? pads?|hot packs?|heat (?:wraps?|packs?)", "HeatTherapy"),
    (r"(?:hot/cold|cold|ice) packs?", "HotColdTherapy"),
    (r"(?:cervical|wedge) pillow", "CervicalPillow"),
    (r"brace|splint", "Splint"),
    (r"hospital bed", "HospitalBed"),
    (r"gym", "GymMembership"),
    (r"home health|\bRN\b|nursing visits|home care|wound care", "HomeHealthServices"),
    (r"skilled nursing|\bSNF\b", "SkilledNursingFacility"),
    (r"hearing aid", "HearingAid"),
    (r"transportation", "Transportation"),
    (r"psycholog\w* (?:evaluation|consult)|psych eval", "PsychologicalEvaluation"),
    (r"psychotherapy|cognitive behavio\w*|\bCBT\b|psycholog\w*", "PsychologicalTreatment"),
    # a visit with a surgeon, named by the visit word before or after the surgeon
    (r"(?:consult\w*|referral|evaluation|eval\b|\bTOC\b)[^,;]{0,40}(?:spine|spinal|neuro|ortho\w*)[^,;]{0,15}surg\w*|"
     r"(?:spine|spinal|neuro|ortho\w*(?: spine)?)\s*surg\w*[^,;]{0,25}(?:consult\w*|evaluation|eval\b|referral)|"
     r"surgical (?:consult\w*|evaluation|referral)", "SurgicalConsultation"),
    (r"consult\w*|referral|evaluation|\bTOC\b|follow[- ]up visit|office visit", "OfficeVisit"),
    (r"commode", "Commode"),
    (r"gloves|wipes", "DisposableMedicalSupply"),
    # "DME", "Durable medical equipment (DME) for the lumbar spine": equipment, no device named
    (r"^\W*(?:(?:retrospective|associated surgical service|post-?op\w*|pre-?op\w*)\W+)*"
     r"(?:(?:purchase|rental)\s+(?:of\s+)?)?(?:unspecified\s+)?(?:durable medical equipment|DME)(?:\s*\(DME\))?"
     r"(?:\s+(?:purchase|rental))?" + EQUIPMENT_PLACE + r"\W*$", "UnnamedEquipment"),
    (r"pad\b|wraps?\b|durable medical|\bDME\b", "DurableMedicalEquipment"),
)

# Drugs: (pattern, class). Checked when no non-drug treatment matched first.
DRUGS: tuple[tuple[str, str], ...] = (
    (r"Lidoderm|lidocaine (?:5% )?patch", "LidocainePatch"),
    (r"Voltaren|diclofenac (?:sodium )?(?:1% )?gel|Flector|Pennsaid", "TopicalDiclofenac"),
    (r"Deprizine|Fanatrex|Synapryn|Tabradol|Dicopanol|oral suspension", "OralCompoundedKit"),
    (r"Trezix|Norco|hydrocodone|oxycodone|Percocet|tramadol|Ultram|morphine|MS Contin|Nucynta|tapentadol|codeine|fentanyl|methadone|Dilaudid|hydromorphone|buprenorphine|Butrans|oxymorphone", "Opioid"),
    (r"cyclobenzaprine|Flexeril|Fexmid|Amrix", "Cyclobenzaprine"),
    (r"carisoprodol|\bSoma\b", "Carisoprodol"),
    (r"baclofen", "Baclofen"),
    (r"Lorzone|chlorzoxazone|methocarbamol|Robaxin|tizanidine|Zanaflex|metaxalone|Skelaxin|orphenadrine|Norflex", "MuscleRelaxant"),
    (r"diazepam|Valium|alprazolam|Xanax|lorazepam|Ativan|clonazepam|Klonopin", "Benzodiazepine"),
    (r"Fioricet|butalbital", "BarbiturateAnalgesic"),
    (r"omeprazole|Prilosec|pantoprazole|Protonix|lansoprazole|Prevacid|esomeprazole|Nexium|famotidine|Pepcid|ranitidine|Zantac", "ProtonPumpInhibitor"),
    (r"ondansetron|Zofran|promethazine", "Antiemetic"),
    (r"Colace|docusate|senna|Senokot|laxative|Miralax|Amitiza|Linzess", "Laxative"),
    (r"gabapentin|Neurontin|pregabalin|Lyrica|topiramate|Topamax", "Gabapentin"),
    (r"amitriptyline|Elavil|nortriptyline|Pamelor", "TricyclicAntidepressant"),
    (r"venlafaxine|Effexor|duloxetine|Cymbalta|bupropion|Wellbutrin|sertraline|trazodone|Desyrel|fluoxetine|citalopram", "Antidepressant"),
    (r"zolpidem|Ambien|eszopiclone|Lunesta|Sonata", "SleepMedication"),
    (r"diphenhydramine|Benadryl|doxylamine|hydroxyzine", "SedatingAntihistamine"),
    (r"capsaicin", "TopicalCapsaicin"),
    (r"celecoxib|Celebrex|meloxicam|Mobic|naproxen|Anaprox|Naprosyn|ibuprofen|Motrin|diclofenac|Arthrotec|etodolac|nabumetone|Relafen|ketorolac|Toradol|indomethacin|Duexis|Vimovo", "NSAID"),
    (r"acetaminophen|Tylenol", "Acetaminophen"),
)

# Ingredients of compounded creams: (pattern, ingredient class)
INGREDIENTS: tuple[tuple[str, str], ...] = (
    (r"gabapentin", "TopicalGabapentin"),
    (r"cyclobenzaprine|Cyclophene|baclofen", "TopicalMuscleRelaxant"),
    (r"flurbiprofen|ketoprofen|Ketophene", "TopicalNonDiclofenacNSAID"),
    (r"lidocaine|Lidopro|bupivacaine", "TopicalLidocaineCream"),
    (r"capsaicin", "TopicalCapsaicin"),
    (r"diclofenac", "TopicalDiclofenac"),
)
COMPOUND = r"%|\bcream\b|\bcompound\w*|Lidopro|Ketophene|Cyclophene|Terocin|Flurbi"

# Treatments that exist only around a surgery: whatever an item line calls them, they are
# associated surgical services and follow the surgery's decision
PERIOPERATIVE = frozenset({"PreoperativeTesting", "Electrocardiogram", "CoagulationStudies", "SurgicalAssistant",
                           "PostoperativeSling", "AbductionPillowSling", "ContinuousFlowCryotherapy"})

# Devices used only after an operation: an item for one is post-operative care
POSTOPERATIVE_DEVICES = frozenset({"PostoperativeSling", "AbductionPillowSling", "ContinuousFlowCryotherapy"})

# Device names that contain a body part word but say nothing of where treatment is directed
NOT_REGIONS = r"knee (?:scooter|walker)"

# Diagnoses in case summaries: (pattern, condition local name)
CONDITIONS: tuple[tuple[str, str], ...] = (
    (r"(?:lumbar|lumbosacral) (?:intervertebral )?dis[ck] (?:disorder|disease|syndrome|displacement|herniation|protrusion|bulge)|(?:intervertebral )?dis[ck] (?:herniation|protrusion|displacement|bulge|disease|syndrome) (?:of|at|in) the (?:lumbar|lumbosacral)|lumbar (?:HNP|DDD)|thoracic and lumbar intervertebral disc", "LumbarDiscDisorder"),
    (r"thoracic (?:and lumbar )?(?:intervertebral )?dis[ck]", "ThoracicDiscDisorder"),
    (r"cervical (?:intervertebral )?dis[ck]|cervical (?:HNP|DDD)", "CervicalDiscDisorder"),
    (r"lumbar radiculopathy|lumbosacral radicul\w+|sciatica|radiculopathy (?:of|in) the (?:lower|left lower|right lower|bilateral lower)", "LumbarRadiculopathy"),
    (r"cervical radiculopathy|radiculopathy (?:of|in) the (?:upper|left upper|right upper|bilateral upper)", "CervicalRadiculopathy"),
    (r"radiculitis|neuritis|neuralgia", "NeuralgiaNeuritisRadiculitis"),
    (r"myalgia|myositis|fibromyalgia|myofascial", "MyalgiaMyositis"),
    (r"complex regional pain|\bCRPS\b|reflex sympathetic", "ComplexRegionalPainSyndrome"),
    (r"carpal tunnel", "CarpalTunnelSyndrome"),
    (r"(?:lumbar|low back|lumbosacral) (?:sprain|strain)|(?:sprain|strain) of (?:the )?(?:lumbar|low back)", "LumbarSprainStrain"),
    (r"(?:cervical|neck) (?:muscle )?(?:sprain|strain)|(?:sprain|strain) of (?:the )?(?:cervical|neck)", "CervicalSprainStrain"),
    (r"cervicalgia|neck pain|cervical spondylosis", "Cervicalgia"),
    (rf"shoulder (?:sprain|strain)|(?:sprain|strain) of (?:the )?{SIDE}shoulder", "ShoulderSprainStrain"),
    (r"full[- ]thickness (?:rotator cuff|supraspinatus|infraspinatus|cuff) tear|full[- ]thickness tear of the (?:\w+ )?(?:rotator cuff|supraspinatus|infraspinatus)|complete (?:rotator cuff|supraspinatus) (?:tear|rupture)", "FullThicknessRotatorCuffTear"),
    (r"rotator cuff|impingement|supraspinatus", "RotatorCuffSyndrome"),
    (r"lateral epicondyl\w+|tennis elbow", "LateralEpicondylitis"),
    (rf"knee (?:sprain|strain)|(?:sprain|strain) of (?:the )?{SIDE}knee", "KneeSprainStrain"),
    (r"(?:osteoarthritis|degenerative joint disease|arthritis) of the (?:right |left |bilateral )?knee|knee osteoarthritis", "KneeOsteoarthritis"),
    (r"osteoarthritis|degenerative joint disease", "Osteoarthritis"),
    (r"(?:finger|phalan\w+|metacarpal|hand) fracture|fracture of the (?:\w+ )?(?:finger|hand)", "FingerFracture"),
    (r"headaches?|migraine", "Headache"),
    (r"head injury|concussion|traumatic brain", "HeadInjury"),
    (r"inguinal hernia|hernia", "InguinalHernia"),
    (r"hearing loss", "HearingLoss"),
    (r"(?:low )?back pain|lumbago|lumbar spine pain", "LowBackPain"),
)

# Findings in case summaries: finding class -> phrases (matched case-insensitively by
# medspaCy's target matcher; ConText then decides whether each mention is negated).
FINDINGS: dict[str, tuple[str, ...]] = {
    "RadiculopathyOnExamination": ("radiculopathy", "radicular pain", "radicular symptoms", "dermatomal"),
    # objective examination findings only: complaints of numbness or weakness are symptoms
    "NeurologicalDeficit": ("decreased sensation", "diminished sensation", "reduced sensation", "decreased reflexes",
                            "diminished reflexes", "absent reflexes", "sensory deficit", "sensory loss",
                            "motor deficit", "decreased strength", "reflex asymmetry", "positive straight leg raise",
                            "positive straight leg raising", "neurological deficit", "hypoesthesia", "atrophy"),
    "RedFlag": ("cauda equina", "tumor", "malignancy", "progressive neurologic deficit", "bowel or bladder",
                "red flag", "red flags", "suspected fracture", "stress fracture", "occult fracture",
                "avascular necrosis", "osteonecrosis", "hemarthrosis"),
    "MuscleSpasm": ("spasm", "spasms", "muscle spasm"),
    "NeuropathicPain": ("neuropathic pain", "neuropathy", "burning pain", "paresthesia", "paresthesias"),
    "SurgicalCandidate": ("surgical candidate", "candidate for surgery", "surgery was recommended",
                          "surgery is recommended", "surgical intervention", "considering surgery"),
    "CorroboratedRadiculopathy": ("nerve root compression", "nerve root impingement", "neural foraminal stenosis",
                                  "foraminal narrowing", "nerve root abutment"),
    "GastrointestinalRiskFactor": ("gastritis", "GERD", "reflux", "ulcer", "GI bleed", "dyspepsia",
                                   "stomach upset", "GI upset", "anticoagulant"),
    "Insomnia": ("insomnia", "difficulty sleeping", "sleep disturbance"),
    "FailedToProgressInTherapy": ("failure to progress", "not progressing", "plateaued in therapy", "no progress in therapy"),
    "InvasiveProcedurePlanned": ("injection is planned", "planned injection", "prior to injection", "prior to an injection",
                                 "before an injection", "candidate for injection", "candidate for an injection",
                                 "injection was recommended", "recommended an injection", "considering an injection"),
    "KneeMechanicalSymptoms": ("locking", "catching", "giving way", "gives way", "buckling", "knee instability",
                               "instability of the knee", "positive McMurray", "positive Lachman", "positive anterior drawer",
                               "meniscal tear", "meniscus tear", "torn meniscus", "internal derangement"),
    "RecentSurgeryOrInpatientStay": ("recently discharged", "discharged from the hospital", "discharged home",
                                     "hospital discharge", "inpatient stay", "postoperative wound", "post-operative wound",
                                     "surgical wound", "dressing changes", "recent surgery"),
    "Anxiety": ("anxiety", "anxious", "panic attacks", "panic disorder"),
    "ImpairedAmbulation": ("antalgic gait", "non-weight bearing", "non weight bearing", "nonweightbearing",
                           "unable to bear weight", "difficulty walking", "unsteady gait", "gait instability",
                           "ambulates with a cane", "uses a cane", "ambulates with crutches", "uses crutches", "limping"),
    "Homebound": ("homebound",),
    "ConfinedToBedOrRoom": ("bedbound", "bed-bound", "bedridden", "bed-ridden", "confined to bed", "confined to his bed",
                            "confined to her bed", "confined to the bed", "confined to his room", "confined to her room",
                            "unable to walk to the bathroom", "unable to get out of bed"),
    "ReturnToWorkInQuestion": ("maximum medical improvement", "MMI", "permanent and stationary",
                               "failed return to work", "unsuccessful return to work",
                               "unsuccessful attempts to return to work", "failed attempts to return to work",
                               "conflicting medical reports", "work hardening"),
    "BleedingRisk": ("anticoagulant", "anticoagulants", "anticoagulation", "warfarin", "Coumadin", "Eliquis", "Xarelto",
                     "blood thinner", "blood thinners", "bleeding disorder", "coagulopathy", "hemophilia",
                     "von Willebrand", "liver disease", "cirrhosis"),
    "CardiacRiskFactor": ("coronary artery disease", "heart disease", "heart failure", "cardiac history",
                          "myocardial infarction", "heart attack", "arrhythmia", "atrial fibrillation", "stroke",
                          "diabetes", "diabetic", "hypertension", "high blood pressure"),
    # on examination only; "reported weakness" is a complaint
    "RotatorCuffWeakness": ("positive drop arm", "drop arm sign", "4/5 in abduction", "4/5 in external rotation",
                            "weakness in abduction", "weakness of abduction", "abduction weakness",
                            "external rotation weakness", "rotator cuff weakness"),
    "DrugTestingAndCURESDocumented": ("CURES", "consistent urine drug screen", "urine drug screen was consistent"),
}

# Words that name the main treatments in history sentences ("8 physical therapy sessions")
HISTORY_TREATMENTS: tuple[tuple[str, str], ...] = (
    (r"chiropract\w*", "ChiropracticManipulation"),
    (r"acupuncture", "Acupuncture"),
    (r"massage", "MassageTherapy"),
    (r"physical therapy|\bPT\b|physiotherapy", "PhysicalTherapy"),
    (r"occupational therapy|\bOT\b", "OccupationalTherapy"),
)
