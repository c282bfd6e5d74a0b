package org.tuntap.testkit;

import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;

import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * The kernel's rules for interface names, as {@code TUNSETIFF} applies them: which names are
 * valid ({@code dev_valid_name}) and how a {@code %d} template becomes the lowest free
 * {@code tun0}, {@code tun1}, ... ({@code dev_alloc_name}).
 */
final class InterfaceNames {

    /** The kernel gives up after this many units of one template ({@code 8 * PAGE_SIZE}). */
    static final int MAX_UNITS = 32_768;

    private static final String OPERATION = "ioctl(TUNSETIFF)";

    private InterfaceNames() {
    }

    /** The name an empty request gets, by device type, as in {@code tun_set_iff}. */
    static String defaultTemplate(boolean tap) {
        return tap ? "tap%d" : "tun%d";
    }

    /** Whether the name is a {@code %d} template (valid ones only, see {@link #checkValid}). */
    static boolean isTemplate(String name) {
        return name.indexOf('%') >= 0;
    }

    /**
     * Throws EINVAL for a name the kernel refuses: empty, 16 bytes or more, {@code "."} or
     * {@code ".."}, holding {@code '/'}, {@code ':'} or white space, or with a {@code '%'} that is
     * not the one {@code %d} of a template.
     */
    static void checkValid(String name) throws ErrnoException {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0) {
            throw invalid("interface name is empty");
        }
        if (bytes > Ifreq.MAX_NAME_LENGTH) {
            throw invalid("interface name '" + name + "' is " + bytes + " bytes; at most "
                    + Ifreq.MAX_NAME_LENGTH + " allowed");
        }
        if (name.equals(".") || name.equals("..")) {
            throw invalid("interface name '" + name + "' is reserved");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r')) {
                throw invalid("interface name '" + name + "' holds '/', ':' or white space");
            }
        }
        int percent = name.indexOf('%');
        if (percent >= 0 && (percent + 1 >= name.length() || name.charAt(percent + 1) != 'd'
                || name.indexOf('%', percent + 2) >= 0)) {
            throw invalid("interface name '" + name + "' may hold '%' only as one '%d'");
        }
    }

    /**
     * The lowest-numbered name from {@code template} that is not in use and fits in
     * {@link Ifreq#MAX_NAME_LENGTH} bytes; ENFILE when there is none, as in the kernel.
     */
    static String allocate(String template, Predicate<String> inUse) throws ErrnoException {
        int percent = template.indexOf("%d");
        String prefix = template.substring(0, percent);
        String suffix = template.substring(percent + 2);
        for (int unit = 0; unit < MAX_UNITS; unit++) {
            String candidate = prefix + unit + suffix;
            if (candidate.getBytes(StandardCharsets.UTF_8).length > Ifreq.MAX_NAME_LENGTH) {
                break; // longer numbers only get longer
            }
            if (!inUse.test(candidate)) {
                return candidate;
            }
        }
        throw new ErrnoException(OPERATION, Errno.ENFILE, "no free name for template '" + template + "'");
    }

    private static ErrnoException invalid(String detail) {
        return new ErrnoException(OPERATION, Errno.EINVAL, detail);
    }
}
