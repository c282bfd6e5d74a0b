package org.tuntap.transport.linux;

/**
 * Run in a child JVM by the availability tests: prints what {@link LinuxTun} says about the JVM
 * it runs in, so a test can start JVMs configured differently from its own.
 */
public final class AvailabilityProbe {
    private AvailabilityProbe() {
    }

    public static void main(String[] args) {
        System.out.println("available=" + LinuxTun.isAvailable());
        Throwable cause = LinuxTun.unavailabilityCause();
        System.out.println("cause=" + (cause == null ? "" : cause));
        try {
            LinuxTun.ensureAvailability();
            System.out.println("ensureAvailability=ok");
        } catch (UnsatisfiedLinkError e) {
            System.out.println("ensureAvailability=" + e);
        }
    }
}
