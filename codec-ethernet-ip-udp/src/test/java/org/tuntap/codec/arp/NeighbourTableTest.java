package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.udp.UdpPackets;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ARP layer's neighbour table is bounded and ages; frames to other hosts are not ours. */
class NeighbourTableTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final Inet4Address APP = address("192.0.2.2");

    private static Inet4Address address(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A UDP frame from {@code source} at {@code sourceMac} to {@code destinationMac}. */
    private static ByteBuf frame(String source, long sourceMac, long destinationMac) {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        ByteBuf payload = TestPackets.tracked(new byte[] {42});
        EthernetHeader.write(out, MacAddress.of(destinationMac), MacAddress.of(sourceMac), EtherType.IPV4);
        UdpPackets.write(out, new Ipv4Repr().source(address(source)).destination(APP), 1000, 7, payload, true);
        payload.release();
        return out;
    }

    /** An ARP reply from {@code source} at {@code sourceMac} to us: how a neighbour is learned. */
    private static ByteBuf arpReply(String source, long sourceMac) {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer();
        EthernetHeader.write(out, APP_MAC, MacAddress.of(sourceMac), EtherType.ARP);
        ArpPacket.write(out, ArpPacket.REPLY, sourceMac, Ipv4Addresses.toInt(address(source)), APP_MAC.bits(),
                Ipv4Addresses.toInt(APP));
        return out;
    }

    private static EmbeddedChannel pipeline(ArpHandler arp) {
        return new EmbeddedChannel(new EthernetCodec(), arp, new Ipv4Codec(), new UdpCodec(new InetSocketAddress(APP, 7)));
    }

    private static void drain(EmbeddedChannel channel) {
        for (Object msg; (msg = channel.readInbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
        for (Object msg; (msg = channel.readOutbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }

    @Test
    void framesToAnotherHostsMacAreDroppedUnlessPromiscuous() {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of(APP));
        EmbeddedChannel channel = pipeline(arp);
        long other = MacAddress.parse("02:00:00:00:00:99").bits();
        assertFalse(channel.writeInbound(frame("192.0.2.1", 0x020000000001L, other)));
        assertEquals(1, arp.dropCounters().get(DropReason.OTHER_HOST));
        assertNull(arp.neighbour(address("192.0.2.1")), "nothing learned from a frame that was not ours");
        assertTrue(channel.writeInbound(frame("192.0.2.1", 0x020000000001L, APP_MAC.bits())), "ours");
        assertNull(arp.neighbour(address("192.0.2.1")), "nor from an IP frame that was: only ARP teaches");
        assertTrue(channel.writeInbound(frame("192.0.2.1", 0x020000000001L, MacAddress.BROADCAST.bits())), "broadcast");
        drain(channel);
        arp.setPromiscuous(true);
        assertTrue(channel.writeInbound(frame("192.0.2.1", 0x020000000001L, other)), "promiscuous");
        drain(channel);
        assertEquals(1, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void theTableIsBoundedAndAStaticEntryDoesNotCount() {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of(APP)).setMaxNeighbours(2)
                .addNeighbour(address("192.0.2.100"), MacAddress.parse("02:00:00:00:01:00"));
        EmbeddedChannel channel = pipeline(arp);
        for (int i = 1; i <= 5; i++) {
            channel.writeInbound(arpReply("192.0.2." + (10 + i), 0x020000000000L + i));
        }
        drain(channel);
        assertEquals(3, arp.neighbours().size(), "two learned and the static one: " + arp.neighbours());
        assertEquals(3, arp.dropCounters().get(DropReason.NEIGHBOUR_TABLE_FULL), arp.dropCounters().toString());
        assertNull(arp.neighbour(address("192.0.2.15")));
        assertFalse(channel.finish());
    }

    @Test
    void unconfirmedEntriesTurnStaleThenGoButStaticOnesStay() {
        ArpHandler arp = new ArpHandler(APP_MAC, List.of(APP)).setNeighbourSweepInterval(30, TimeUnit.SECONDS)
                .addNeighbour(address("192.0.2.100"), MacAddress.parse("02:00:00:00:01:00"));
        EmbeddedChannel channel = pipeline(arp);
        channel.writeInbound(arpReply("192.0.2.1", 0x020000000001L));
        drain(channel);
        InetSocketAddress peer = new InetSocketAddress("192.0.2.1", 1000);

        channel.advanceTimeBy(30, TimeUnit.SECONDS); // first sweep: was confirmed, stays reachable
        channel.runScheduledPendingTasks();
        channel.writeAndFlush(new DatagramPacket(TestPackets.tracked(new byte[] {1}), peer));
        ByteBuf sent = channel.readOutbound();
        assertEquals("020000000001", ByteBufUtil.hexDump(sent, sent.readerIndex(), 6), "still reachable: sent, no ARP");
        sent.release();
        assertNull(channel.readOutbound());

        channel.advanceTimeBy(30, TimeUnit.SECONDS); // second sweep: not confirmed since, stale
        channel.runScheduledPendingTasks();
        channel.writeAndFlush(new DatagramPacket(TestPackets.tracked(new byte[] {2}), peer));
        List<String> out = new java.util.ArrayList<>();
        for (ByteBuf written; (written = channel.readOutbound()) != null; written.release()) {
            out.add(ByteBufUtil.hexDump(written, written.readerIndex(), 14));
        }
        assertEquals(2, out.size(), "stale: an ARP request to confirm it, and the datagram still sent: " + out);
        assertTrue(out.contains("ffffffffffff" + "020000000002" + "0806"), out.toString());
        assertTrue(out.contains("020000000001" + "020000000002" + "0800"), out.toString());

        channel.advanceTimeBy(30, TimeUnit.SECONDS); // third sweep: still unconfirmed, forgotten
        channel.runScheduledPendingTasks();
        assertNull(arp.neighbour(address("192.0.2.1")));
        assertNotNull(arp.neighbour(address("192.0.2.100")), "static entries never age");
        assertFalse(channel.finish());
    }
}
