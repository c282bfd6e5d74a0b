package org.tuntap.testkit.packaging;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * On the JDK Maven runs on (17, the "baseline" group), a tool that scans the transport jar by
 * loading every class outside {@code META-INF/versions} must not meet a class file it cannot
 * read: each one defines (no {@link UnsupportedClassVersionError}).
 */
@Tag("baseline")
class TransportJarBaselineTest {

    @Test
    void everyUnversionedClassLoadsOnThisJdk() throws Exception {
        Path jar = TransportJar.locate();
        List<String> unversioned = TransportJar.classEntries(jar).stream()
                .filter(name -> !name.startsWith("META-INF/"))
                .collect(Collectors.toList());
        assertFalse(unversioned.isEmpty());
        ClassLoader loader = TransportJarBaselineTest.class.getClassLoader();
        int loaded = 0;
        for (String entry : unversioned) {
            Class.forName(TransportJar.className(entry), false, loader);
            loaded++;
        }
        assertEquals(unversioned.size(), loaded);
    }
}
