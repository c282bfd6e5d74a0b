package org.tuntap.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.VnetHeaderEncoder;
import org.tuntap.codec.vnet.VnetSegmentationHandler;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes every decoder at once: any bytes, cut into packets, go through a full pipeline (PI,
 * Ethernet and ARP on TAP, or the virtio-net header's segmentation, IPv6 and IPv4 with
 * reassembly, UDP, ICMP, an echo that writes every datagram back), fused or with its layers kept apart. Whatever the input, nothing may throw out
 * of the pipeline and no buffer may leak (the build's leak detector is at PARANOID and fails the
 * test on a leak).
 *
 * <p>In the normal build this runs the committed seeds (kernel captures and hand-made packets under
 * {@code src/test/resources/org/tuntap/codec/CodecFuzzTestInputs}). To fuzz, run
 * {@code JAZZER_FUZZ=1 ./mvnw -B verify -pl codec-ethernet-ip-udp -am -Dtest=CodecFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}; the duration is the annotation's {@code maxDuration}.
 */
class CodecFuzzTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");

    /** A pass-through handler: between two layers it keeps them apart (the layered path). */
    static final class Apart extends ChannelDuplexHandler {
    }

    /** Writes every datagram back to its sender, as an echo does. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DatagramPacket datagram) {
                ctx.write(new DatagramPacket(datagram.content().retain(), datagram.sender(), datagram.recipient()));
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /**
     * The first byte picks the pipeline (bit 0: packet information, bit 1: TAP, bit 2: layers
     * kept apart, bit 3: a virtio-net header in front of every packet, segmented, on TUN without
     * packet information); the rest is packets, each a 2-byte length and that many bytes (a length of 0
     * takes what is left).
     */
    @FuzzTest(maxDuration = "60s")
    void anyBytesAreDecodedDroppedOrPassedNeverThrownNorLeaked(byte[] data) throws Exception {
        if (data.length == 0) {
            return;
        }
        int config = data[0];
        boolean vnet = (config & 8) != 0;
        EmbeddedChannel channel = new EmbeddedChannel(
                pipeline(!vnet && (config & 1) != 0, !vnet && (config & 2) != 0, (config & 4) != 0, vnet));
        int at = 1;
        while (at + 2 <= data.length) {
            int declared = (data[at] & 0xFF) << 8 | (data[at + 1] & 0xFF);
            int remaining = data.length - at - 2;
            int length = declared == 0 ? remaining : Math.min(declared, remaining);
            byte[] packet = new byte[length];
            System.arraycopy(data, at + 2, packet, 0, length);
            channel.writeInbound(TestPackets.tracked(packet));
            at += 2 + length;
            for (Object msg; (msg = channel.readOutbound()) != null; ) {
                ReferenceCountUtil.release(msg);
            }
        }
        channel.checkException();
        channel.finishAndReleaseAll();
    }

    private static ChannelHandler[] pipeline(boolean packetInfo, boolean tap, boolean apart, boolean vnet)
            throws UnknownHostException {
        Inet4Address app = (Inet4Address) InetAddress.getByName("192.0.2.2");
        List<ChannelHandler> layers = new ArrayList<>();
        if (vnet) {
            layers.add(new VnetSegmentationHandler());
            layers.add(new VnetHeaderEncoder());
        }
        if (packetInfo) {
            layers.add(tap ? PiCodec.forTap() : PiCodec.forTun());
        }
        if (tap) {
            layers.add(new EthernetCodec());
            layers.add(new ArpHandler(APP_MAC, List.of(app, InetAddress.getByName("2001:db8::2")))); // ARP and NDP
        }
        layers.add(new Ipv6Codec().setPassFragments(true));
        layers.add(new Ipv6ReassemblyHandler());
        layers.add(new Ipv4Codec().setPassFragments(true));
        layers.add(new Ipv4ReassemblyHandler());
        layers.add(new UdpCodec(new InetSocketAddress(app, 7))
                .setDefaultLocalAddress(new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 7)));
        layers.add(IcmpEchoResponder.forAnyAddress());
        List<ChannelHandler> handlers = new ArrayList<>();
        for (ChannelHandler layer : layers) {
            if (apart && !handlers.isEmpty()) {
                handlers.add(new Apart());
            }
            handlers.add(layer);
        }
        handlers.add(new Echo());
        return handlers.toArray(new ChannelHandler[0]);
    }
}
