package org.tuntap.transport.linux;

import io.netty.channel.epoll.Epoll;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Set;

/**
 * The native Linux fd layer: {@code /dev/net/tun} through the JDK's Foreign Function &amp; Memory
 * API, readiness through Netty's epoll event loops. Check {@link #isAvailable()} first, as with
 * Netty's {@code Epoll}.
 *
 * <pre>{@code
 * LinuxTun.ensureAvailability();
 * EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
 * Channel tun = new Bootstrap().group(group)
 *         .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
 *         .handler(...)
 *         .bind(new TunAddress("tun%d")).sync().channel();
 * }</pre>
 *
 * <p>Needs Linux on x86_64 or aarch64, JDK 22 or newer, native access for this code
 * ({@code --enable-native-access}), Netty's native epoll library on the class path and
 * {@code /dev/net/tun}. The classes that use the FFM API are compiled for Java 22 (under
 * {@code META-INF/versions/22} of the multi-release jar) and only loaded, reflectively, once the
 * runtime is known to be new enough, so this class itself loads and answers on Java 17.
 */
public final class LinuxTun {
    private static final String IO_SYSTEM_CLASS = "org.tuntap.transport.linux.FfmTunIoSystem";
    private static final String INTERFACES_CLASS = "org.tuntap.transport.linux.FfmInterfaces";
    /** The Java release whose FFM API the native layer is written against. */
    static final int REQUIRED_JAVA = 22;
    /**
     * The {@code os.arch} values whose ABI the native layer was checked against: the generic
     * ioctl encoding of {@code <asm-generic/ioctl.h>}, the generic errno and open-flag numbers,
     * 64-bit pointers, a 40-byte {@code struct ifreq}, little-endian; and for which Netty
     * publishes an epoll library (linux-x86_64, linux-aarch_64).
     */
    private static final Set<String> SUPPORTED_ARCHITECTURES = Set.of("amd64", "x86_64", "aarch64");

    private static final Throwable UNAVAILABILITY_CAUSE;
    private static final TunIoSystem IO_SYSTEM;
    private static final LinuxInterfaces INTERFACES;

    static {
        Throwable cause;
        TunIoSystem io = null;
        LinuxInterfaces interfaces = null;
        try {
            cause = environmentProblem();
            if (cause == null) {
                io = (TunIoSystem) instantiate(IO_SYSTEM_CLASS);
                interfaces = (LinuxInterfaces) instantiate(INTERFACES_CLASS);
            }
        } catch (Throwable t) {
            cause = t;
            io = null;
            interfaces = null;
        }
        UNAVAILABILITY_CAUSE = cause;
        IO_SYSTEM = io;
        INTERFACES = interfaces;
    }

    private LinuxTun() {
    }

    /** Whether the native layer works in this JVM; {@link #unavailabilityCause()} says why not. */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /**
     * Throws if the native layer cannot be used here.
     *
     * @throws UnsatisfiedLinkError with the {@link #unavailabilityCause()} as its cause
     */
    public static void ensureAvailability() {
        if (UNAVAILABILITY_CAUSE != null) {
            throw (Error) new UnsatisfiedLinkError(
                    "the native TUN/TAP layer is unavailable: " + UNAVAILABILITY_CAUSE.getMessage())
                    .initCause(UNAVAILABILITY_CAUSE);
        }
    }

    /**
     * Why the native layer cannot be used here, or null when it can.
     *
     * @return the first problem found (not Linux, an unsupported architecture, a JDK older than
     *         22, native access not enabled, Netty's epoll missing, no {@code /dev/net/tun}), or null
     */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /**
     * The native fd layer, for {@code TunChannel.factory(LinuxTun.ioSystem())}. Its channels
     * register with event loops of Netty's {@code EpollIoHandler}.
     *
     * @throws UnsatisfiedLinkError if unavailable
     */
    public static TunIoSystem ioSystem() {
        ensureAvailability();
        return IO_SYSTEM;
    }

    /**
     * Interface settings (MTU, IPv4 address, up/down, index) for devices of this network
     * namespace.
     *
     * @throws UnsatisfiedLinkError if unavailable
     */
    public static LinuxInterfaces interfaces() {
        ensureAvailability();
        return INTERFACES;
    }

    /** The first reason this JVM cannot run the native layer, in order of what to fix first. */
    private static Throwable environmentProblem() throws ReflectiveOperationException {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return new UnsupportedOperationException("TUN/TAP via /dev/net/tun needs Linux, not " + os);
        }
        Throwable architecture = architectureProblem(System.getProperty("os.arch", ""));
        if (architecture != null) {
            return architecture;
        }
        int feature = Runtime.version().feature();
        if (feature < REQUIRED_JAVA) {
            return new UnsupportedOperationException("the native TUN/TAP layer needs JDK " + REQUIRED_JAVA
                    + " or newer (Foreign Function & Memory API); this JVM is Java " + Runtime.version()
                    + " (" + System.getProperty("java.home") + ")");
        }
        Module module = LinuxTun.class.getModule();
        // Module.isNativeAccessEnabled() exists from Java 22: reached reflectively from this
        // Java 17 class.
        Method nativeAccess = Module.class.getMethod("isNativeAccessEnabled");
        if (!(Boolean) nativeAccess.invoke(module)) {
            String name = module.isNamed() ? module.getName() : "ALL-UNNAMED";
            return new IllegalStateException("native access is not enabled for "
                    + (module.isNamed() ? "module " + module.getName() : "the class path (unnamed module)")
                    + ": start the JVM with --enable-native-access=" + name);
        }
        if (!Epoll.isAvailable()) {
            return new IllegalStateException("Netty's native epoll transport is unavailable (add"
                    + " io.netty:netty-transport-native-epoll with the classifier of this platform,"
                    + " such as linux-x86_64): " + Epoll.unavailabilityCause(), Epoll.unavailabilityCause());
        }
        Path device = Paths.get(TunIoctl.DEVICE_PATH);
        if (!Files.exists(device)) {
            return new FileNotFoundException(device + " does not exist: load the tun module"
                    + " (modprobe tun) or create it (mknod " + device + " c 10 200)");
        }
        if (!Files.isReadable(device) || !Files.isWritable(device)) {
            return new IOException(device + " is not readable and writable by this process"
                    + " (user " + System.getProperty("user.name") + ")");
        }
        return null;
    }

    /**
     * Null for an architecture the native layer's numbers and layouts are right on, else the
     * reason naming {@code arch}: on others (32-bit, big-endian, or with their own ioctl or errno
     * numbers such as mips, powerpc, sparc) the same bytes would mean something else.
     */
    static Throwable architectureProblem(String arch) {
        if (SUPPORTED_ARCHITECTURES.contains(arch)) {
            return null;
        }
        return new UnsupportedOperationException("the native TUN/TAP layer supports Linux on x86_64 (amd64)"
                + " and aarch64; this JVM runs on " + (arch.isEmpty() ? "an unknown architecture" : arch)
                + ", whose ioctl numbers and structure layouts it has not been checked against");
    }

    private static Object instantiate(String className) throws ReflectiveOperationException {
        return Class.forName(className, true, LinuxTun.class.getClassLoader())
                .getDeclaredConstructor().newInstance();
    }
}
