package org.tuntap.testkit.packaging;

import org.junit.jupiter.api.Assumptions;
import org.tuntap.transport.linux.LinuxTun;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The transport-tuntap jar this test JVM loads the transport from, read as a plain zip (no
 * multi-release view), so a test sees every entry as a tool scanning the jar would.
 */
final class TransportJar {
    static final String VERSIONED_PREFIX = "META-INF/versions/";

    private TransportJar() {
    }

    /**
     * The jar {@link LinuxTun} was loaded from. In {@code ./mvnw verify} the reactor hands the
     * packaged jar to this module; a run that stops before {@code package} has only
     * transport-tuntap's classes directory, and the test is skipped (failed under CI=true).
     */
    static Path locate() throws URISyntaxException {
        Path location = Paths.get(LinuxTun.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!location.toString().endsWith(".jar")) {
            String reason = "transport-tuntap is on the class path as " + location
                    + ", not as its jar: run the build through `package` (./mvnw verify)";
            if ("true".equals(System.getenv("CI"))) {
                fail(reason);
            }
            Assumptions.abort(reason);
        }
        return location;
    }

    /** Every class file's entry name, in jar order. */
    static List<String> classEntries(Path jar) throws IOException {
        List<String> names = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            for (JarEntry entry : Collections.list(file.entries())) {
                if (entry.getName().endsWith(".class")) {
                    names.add(entry.getName());
                }
            }
        }
        return names;
    }

    /** The class file major version of an entry (61 = Java 17, 66 = Java 22). */
    static int majorVersion(Path jar, String entry) throws IOException {
        try (JarFile file = new JarFile(jar.toFile(), false);
             InputStream in = file.getInputStream(file.getJarEntry(entry))) {
            DataInputStream data = new DataInputStream(in);
            if (data.readInt() != 0xCAFEBABE) {
                throw new IOException(entry + " is not a class file");
            }
            data.readUnsignedShort(); // minor
            return data.readUnsignedShort();
        }
    }

    /** {@code org/x/Y.class} to {@code org.x.Y}. */
    static String className(String entry) {
        return entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
    }
}
