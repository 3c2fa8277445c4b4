// An independent check of Magazin's evidence records: Bouncy Castle's RFC 4998 implementation
// (org.bouncycastle.tsp.ers, Debian's libbcpkix-java) reads the record, finds the data
// object's hash in it, recovers the root of each archive time-stamp and checks the
// time-stamp's signature with its signing certificate.
// Usage: java ErsVerify RECORD.ers DATA [RECORD.ers DATA ...] -> one line per pair, "VALID
// <signer>" or "INVALID <reason>" (one JVM for many records).
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Date;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;

public class ErsVerify {
    public static void main(String[] args) throws Exception {
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
        for (int i = 0; i + 1 < args.length; i += 2) {
            byte[] record = Files.readAllBytes(Paths.get(args[i]));
            byte[] data = Files.readAllBytes(Paths.get(args[i + 1]));
            try {
                ERSEvidenceRecord er = new ERSEvidenceRecord(record, digests);
                er.validatePresent(new ERSByteData(data), new Date());
                X509CertificateHolder signer = er.getSigningCertificate();
                if (signer == null) {
                    throw new IllegalStateException("no signing certificate in the time-stamp");
                }
                er.validate(new JcaSimpleSignerInfoVerifierBuilder().build(signer));
                System.out.println("VALID " + signer.getSubject());
            } catch (Exception e) {
                System.out.println("INVALID " + e.getClass().getSimpleName() + ": "
                                   + e.getMessage());
            }
        }
    }
}
