// Loads an ontology and its imports with the OWL API (what Protégé is built on), mapping
// import IRIs through catalog-v001.xml as Protégé does, and reports OWL 2 DL profile
// violations. Usage: java -cp <owlapi classpath> CheckOntology.java CATALOG ROOT_IRI
// Prints "ontologies N", "axioms N", "violations N" and one "violation ..." line each;
// exits 0 when the import closure is in OWL 2 DL, 1 otherwise.
import java.io.File;
import javax.xml.parsers.DocumentBuilderFactory;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.semanticweb.owlapi.util.SimpleIRIMapper;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class CheckOntology {
    public static void main(String[] args) throws Exception {
        File catalog = new File(args[0]).getAbsoluteFile();
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        NodeList entries = factory.newDocumentBuilder().parse(catalog).getElementsByTagNameNS("*", "uri");
        for (int i = 0; i < entries.getLength(); i++) {
            Element entry = (Element) entries.item(i);
            File local = new File(catalog.getParentFile(), entry.getAttribute("uri"));
            manager.getIRIMappers().add(new SimpleIRIMapper(IRI.create(entry.getAttribute("name")), IRI.create(local)));
        }
        OWLOntology root = manager.loadOntology(IRI.create(args[1]));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(root);
        int axioms = 0;
        for (OWLOntology o : root.getImportsClosure()) axioms += o.getAxiomCount();
        System.out.println("ontologies " + root.getImportsClosure().size());
        System.out.println("axioms " + axioms);
        System.out.println("violations " + report.getViolations().size());
        for (OWLProfileViolation v : report.getViolations()) {
            System.out.println("violation " + v.toString().replace('\n', ' '));
        }
        System.exit(report.isInProfile() ? 0 : 1);
    }
}
