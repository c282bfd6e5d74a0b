package org.tuntap.testkit.packaging;

import org.junit.jupiter.api.Test;
import org.tuntap.transport.linux.LinuxTun;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transport jar as published: a multi-release jar whose root holds only Java 17 class files
 * and whose Java 22 native layer sits under {@code META-INF/versions/22}, with a stable module
 * name; and on this JDK 22+ test JVM the native layer is really loaded from that versioned
 * part of the jar (not from a directory that happens to be on the class path too).
 */
class TransportJarTest {
    private static final int JAVA_17 = 61;
    private static final int JAVA_22 = 66;

    @Test
    void manifestDeclaresMultiReleaseAndTheModuleName() throws Exception {
        Path jar = TransportJar.locate();
        try (JarFile file = new JarFile(jar.toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertEquals("true", main.getValue("Multi-Release"), jar.toString());
            assertEquals("org.tuntap.transport", main.getValue("Automatic-Module-Name"), jar.toString());
            assertTrue(file.isMultiRelease());
        }
    }

    @Test
    void rootHoldsOnlyJava17ClassesAndTheNativeLayerIsVersioned() throws Exception {
        Path jar = TransportJar.locate();
        List<String> classes = TransportJar.classEntries(jar);
        List<String> versioned = classes.stream().filter(name -> name.startsWith(TransportJar.VERSIONED_PREFIX))
                .collect(Collectors.toList());
        for (String entry : classes) {
            int major = TransportJar.majorVersion(jar, entry);
            if (entry.startsWith(TransportJar.VERSIONED_PREFIX)) {
                assertTrue(entry.startsWith(TransportJar.VERSIONED_PREFIX + "22/"), entry);
                assertEquals(JAVA_22, major, entry);
            } else {
                assertTrue(major <= JAVA_17, entry + " has class file version " + major);
            }
        }
        for (String name : new String[] {"FfmTunIoSystem", "FfmInterfaces", "LibC"}) {
            String entry = TransportJar.VERSIONED_PREFIX + "22/org/tuntap/transport/linux/" + name + ".class";
            assertTrue(versioned.contains(entry), entry + " in " + versioned);
            assertFalse(classes.contains("org/tuntap/transport/linux/" + name + ".class"), name + " at the root");
        }
    }

    @Test
    void onThisJdkTheNativeLayerComesFromTheJarsVersionedEntries() throws Exception {
        Path jar = TransportJar.locate();
        assertTrue(Runtime.version().feature() >= 22, "the default test JVM is JDK 22+");
        LinuxTun.ensureAvailability();
        Class<?> ioSystem = LinuxTun.ioSystem().getClass();
        assertEquals("org.tuntap.transport.linux.FfmTunIoSystem", ioSystem.getName());
        Path loadedFrom = Paths.get(ioSystem.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals(jar, loadedFrom, "FfmTunIoSystem must come from the jar's META-INF/versions/22");
    }
}
