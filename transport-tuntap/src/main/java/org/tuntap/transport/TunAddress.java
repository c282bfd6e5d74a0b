package org.tuntap.transport;

import org.tuntap.transport.spi.Ifreq;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A TUN/TAP interface name: what a {@link TunChannel} binds to and reports as its local address.
 *
 * <p>Bind to an explicit name ({@code "tun7"}) or a template the kernel fills in
 * ({@code "tun%d"} becomes {@code tun0}, {@code tun1}, ...); the channel's
 * {@link TunChannel#localAddress()} is then the real name, with the device's {@link #mode()}
 * ({@code tun0 (TUN)} in messages and in the channel's {@code toString()}). Equal by name: the
 * mode only describes.
 */
public final class TunAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    /** The interface name or template. */
    private final String name;
    private final TunMode mode;

    /**
     * @param name an interface name or template of at most 15 bytes; empty lets the kernel pick
     *             a name for the mode
     * @throws IllegalArgumentException if the name is too long or holds a NUL or a slash
     */
    public TunAddress(String name) {
        this(name, null);
    }

    /**
     * A device's address as a channel reports it: its name and whether it is a TUN or a TAP
     * device.
     *
     * @param mode the device's mode, or null if not known (an address to bind to)
     * @throws IllegalArgumentException as {@link #TunAddress(String)}
     */
    public TunAddress(String name, TunMode mode) {
        Objects.requireNonNull(name, "name");
        int length = name.getBytes(StandardCharsets.UTF_8).length;
        if (length > Ifreq.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("interface name '" + name + "' is " + length
                    + " bytes; Linux allows at most " + Ifreq.MAX_NAME_LENGTH);
        }
        if (name.indexOf('\0') >= 0 || name.indexOf('/') >= 0) {
            throw new IllegalArgumentException("interface name must not contain NUL or '/': '" + name + "'");
        }
        this.name = name;
        this.mode = mode;
    }

    /** The interface name (or, for an address to bind to, possibly a template). */
    public String name() {
        return name;
    }

    /** TUN or TAP for a channel's bound address; null for an address made from a name alone. */
    public TunMode mode() {
        return mode;
    }

    /** Whether the kernel chooses the number ({@code %d} in the name). */
    public boolean isTemplate() {
        return name.isEmpty() || name.contains("%d");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TunAddress && ((TunAddress) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return mode == null ? name : name + " (" + mode + ")";
    }
}
