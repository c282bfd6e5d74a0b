package org.tuntap.testkit.nativeio;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

/** Native channels and devices for the end-to-end tests; documentation addresses only. */
public final class NativeDevices {
    /** The kernel's address on the device (the host side of the tunnel). */
    public static final Inet4Address KERNEL = address("198.51.100.1");
    /** The application's address: routed through the device, owned by the pipeline. */
    public static final Inet4Address APP = address("198.51.100.2");
    /** The prefix of the device's network. */
    public static final int PREFIX = 24;

    private NativeDevices() {
    }

    /** A bootstrap for native TunChannels on {@code group} in the given mode. */
    public static Bootstrap bootstrap(EventLoopGroup group, TunMode mode, boolean packetInfo) {
        return new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                .option(TunChannelOption.MODE, mode)
                .option(TunChannelOption.PACKET_INFO, packetInfo);
    }

    /** Binds and waits: the channel on its device. */
    public static TunChannel bind(Bootstrap bootstrap, String name) throws InterruptedException {
        return (TunChannel) bootstrap.bind(new TunAddress(name)).sync().channel();
    }

    /**
     * Gives the device {@link #KERNEL}/24 and brings it up (IPv6 off, so that only the test's
     * packets cross it): the kernel then routes {@link #APP} through it.
     */
    public static void connect(TunChannel channel) throws Exception {
        String name = channel.localAddress().name();
        Ip.disableIpv6(name);
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        interfaces.setIpv4Address(name, KERNEL, PREFIX);
        interfaces.setUp(name, true);
    }

    /**
     * A UDP socket bound to {@code local}, with a 5 s receive timeout. The kernel may make a new
     * IPv6 address usable asynchronously after the link comes up (until then binding fails with
     * EADDRNOTAVAIL, as seen under load), so this waits for that, up to five seconds.
     */
    public static DatagramSocket boundSocket(InetAddress local) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                DatagramSocket socket = new DatagramSocket(new InetSocketAddress(local, 0));
                socket.setSoTimeout(5000);
                return socket;
            } catch (java.net.BindException notYetUsable) {
                if (System.nanoTime() - deadline > 0) {
                    throw notYetUsable;
                }
                Thread.sleep(10);
            }
        }
    }

    /** An IPv6 literal as an address. */
    public static Inet6Address address6(String text) {
        try {
            return (Inet6Address) InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Inet4Address address(String text) {
        try {
            return (Inet4Address) InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
