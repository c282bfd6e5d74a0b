package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.testkit.support.DatagramEcho;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;
import static org.tuntap.testkit.nativeio.NativeDevices.PREFIX;

/**
 * Neighbour discovery with the real kernel on a TAP device: the kernel solicits our IPv6 address
 * and our advertisement lands in its neighbour table ({@code ip -6 neigh}), we learn its MAC from
 * its solicitation, UDP over IPv6 comes back byte for byte, and {@code ping -6} is answered.
 */
@Tag("netns")
class TapNeighbourDiscoveryNativeTest {
    private static final Inet6Address KERNEL6 = NativeDevices.address6("2001:db8::1");
    private static final Inet6Address APP6 = NativeDevices.address6("2001:db8::2");
    private static final MacAddress APP_MAC = MacAddress.parse("02:00:5e:10:00:02");
    /** Payload sizes for an MTU of 1500 over IPv6: empty, tiny, middling, the largest (1500 - 40 - 8). */
    private static final int[] SIZES_1500 = {0, 1, 100, 1000, 1452};

    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void epollGroup() {
        Netns.require();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void shutdown() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest(name = "packet information: {0}")
    @ValueSource(booleans = {false, true})
    void theKernelResolvesUsByNeighbourDiscoveryAndUdpAndPingWorkOverIpv6(boolean packetInfo) throws Exception {
        DatagramEcho echo = new DatagramEcho();
        ArpHandler arp = new ArpHandler(APP_MAC, List.of(APP, APP6));
        IcmpEchoResponder ping = new IcmpEchoResponder(List.of(APP, APP6));
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TAP, packetInfo)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    if (packetInfo) {
                        p.addLast(PiCodec.forTap());
                    }
                    p.addLast(new EthernetCodec(), arp, new Ipv6Codec(), new Ipv4Codec(), new UdpCodec(), ping, echo);
                })), "ndp%d");
        try {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, KERNEL, PREFIX);
            // nodad: usable at once, no duplicate address detection probe to wait for.
            Ip.ip("-6", "addr", "add", "2001:db8::1/64", "dev", name, "nodad");
            interfaces.setUp(name, true);
            MacAddress kernelMac = MacAddress.parse(Ip.macAddress(name));

            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(KERNEL6, 0))) {
                socket.setSoTimeout(5000);
                // The first datagram waits in the kernel until our advertisement resolves APP6.
                echoEach(socket, echo, new InetSocketAddress(APP6, 7), SIZES_1500);
            }

            String neighbours = Ip.ip("-6", "neigh", "show", "dev", name);
            assertTrue(neighbours.contains("2001:db8::2 lladdr " + APP_MAC), // ip prints it compressed
                    "the kernel's neighbour table has our advertisement: " + neighbours);
            Map<InetAddress, MacAddress> learned = channel.eventLoop().submit(arp::neighbours).get(5, TimeUnit.SECONDS);
            assertEquals(kernelMac, learned.get(KERNEL6), "we learned the kernel's MAC from its solicitation: " + learned);

            assertTrue(APP6.isReachable(5000), "ping -6 " + APP6.getHostAddress());
            assertTrue(APP.isReachable(5000), "ping " + APP.getHostAddress() + ", the same pipeline");
            assertFalse(NativeDevices.address6("2001:db8::3").isReachable(300), "not the application's address: nobody advertises it");
            assertEquals(0, arp.dropCounters().total(), "ARP/NDP: " + arp.dropCounters());
            assertEquals(0, ping.dropCounters().total(), "ICMP: " + ping.dropCounters());
        } finally {
            channel.close().sync();
        }
    }

    /** One datagram of each size, in turn: the pipeline sees it, the socket gets it back byte for byte. */
    private static void echoEach(DatagramSocket socket, DatagramEcho echo, InetSocketAddress to, int... sizes) throws Exception {
        InetSocketAddress local = (InetSocketAddress) socket.getLocalSocketAddress();
        for (int size : sizes) {
            byte[] payload = Pipelines.payload(size);
            socket.send(new DatagramPacket(payload, size, to));

            DatagramEcho.Seen seen = echo.next();
            assertNotNull(seen, "the pipeline saw no datagram of " + size + " bytes to " + to);
            assertArrayEquals(payload, seen.payload(), "payload of " + size + " bytes in the pipeline");
            assertEquals(local, seen.sender());
            assertEquals(to, seen.recipient());

            byte[] buffer = new byte[size + 1]; // one spare byte: a longer reply would show
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            assertEquals(size, reply.getLength(), "echo of " + size + " bytes from " + to);
            assertArrayEquals(payload, Arrays.copyOf(buffer, size));
            assertEquals(to, reply.getSocketAddress());
        }
    }
}
