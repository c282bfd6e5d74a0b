package org.tuntap.testkit.nativeio;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.testkit.support.Pipelines;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.nativeio.NativeDevices.APP;
import static org.tuntap.testkit.nativeio.NativeDevices.KERNEL;
import static org.tuntap.testkit.nativeio.NativeDevices.PREFIX;

/**
 * The kernel pings the application through a TUN device: the JDK's {@code isReachable} (as root,
 * an ICMP echo from a raw socket, IPv4 and IPv6) is answered by {@link IcmpEchoResponder} behind
 * the IP codecs, and the kernel delivers the reply to that socket. An address the responder does
 * not own stays unanswered.
 */
@Tag("netns")
class PingNativeTest {
    private static final Inet6Address KERNEL6 = NativeDevices.address6("2001:db8::1");
    private static final Inet6Address APP6 = NativeDevices.address6("2001:db8::2");

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
    void kernelPingsAreAnsweredInBothFamilies(boolean packetInfo) throws Exception {
        IcmpEchoResponder responder = new IcmpEchoResponder(List.of(APP, APP6));
        TunChannel channel = NativeDevices.bind(NativeDevices.bootstrap(group, TunMode.TUN, packetInfo)
                .handler(Pipelines.of(ch -> {
                    ChannelPipeline p = ch.pipeline();
                    if (packetInfo) {
                        p.addLast(PiCodec.forTun());
                    }
                    p.addLast(new Ipv4Codec(), new Ipv6Codec(), responder);
                })), "ping%d");
        try {
            String name = channel.localAddress().name();
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            interfaces.setIpv4Address(name, KERNEL, PREFIX);
            interfaces.addIpv6Address(name, KERNEL6, 64);
            interfaces.setUp(name, true);

            // isReachable waits at most this long for the echo reply; answered, it returns at once.
            assertTrue(APP.isReachable(5000), "ping " + APP.getHostAddress());
            assertTrue(APP6.isReachable(5000), "ping -6 " + APP6.getHostAddress());
            assertFalse(InetAddress.getByName("198.51.100.3").isReachable(300), "not the application's address");
            assertEquals(0, responder.dropCounters().total(), "the kernel's requests all verified");
        } finally {
            channel.close().sync();
        }
    }
}
