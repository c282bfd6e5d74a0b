package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.TestPackets;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArpHandlerTest {

    private static final MacAddress APP_MAC = MacAddress.parse("02:00:00:00:00:02");
    private static final String ETH_TO_APP = "ffffffffffff 020000000099 0806";

    private static ArpHandler handler() throws Exception {
        return new ArpHandler(APP_MAC, List.of((Inet4Address) InetAddress.getByName("192.0.2.2")));
    }

    @Test
    void malformedArpIsDroppedAndCounted() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp);
        // Truncated: 27 bytes of ARP.
        assertFalse(channel.writeInbound(TestPackets.buf(ETH_TO_APP + "0001080006040001 020000000099 c0000201 000000000000 c00002")));
        assertEquals(1, arp.dropCounters().get(DropReason.TRUNCATED));
        // Hardware type 6 (IEEE 802), not Ethernet.
        assertFalse(channel.writeInbound(TestPackets.buf(ETH_TO_APP + "0006080006040001 020000000099 c0000201 000000000000 c0000202")));
        // Operation 3 (RARP request).
        assertFalse(channel.writeInbound(TestPackets.buf(ETH_TO_APP + "0001080006040003 020000000099 c0000201 000000000000 c0000202")));
        assertEquals(2, arp.dropCounters().get(DropReason.UNSUPPORTED_ARP));
        assertNull(channel.readOutbound(), "no reply to any of them");
        assertNull(arp.neighbour((Inet4Address) InetAddress.getByName("192.0.2.1")));
        assertFalse(channel.finish());
    }

    @Test
    void requestsForOtherAddressesAreNotAnsweredButTeach() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp);
        assertFalse(channel.writeInbound(TestPackets.buf(ETH_TO_APP + "0001080006040001 020000000099 c0000201 000000000000 c0000203")));
        assertNull(channel.readOutbound());
        assertEquals(MacAddress.parse("02:00:00:00:00:99"), arp.neighbour((Inet4Address) InetAddress.getByName("192.0.2.1")));
        assertEquals(0, arp.dropCounters().total());
        assertFalse(channel.finish());
    }

    @Test
    void nonIpv4OutboundIsUnroutable() throws Exception {
        ArpHandler arp = handler();
        EmbeddedChannel channel = new EmbeddedChannel(new EthernetCodec(), arp);
        ByteBuf ipv6 = TestPackets.buf("6000000000000000");
        ChannelFuture write = channel.writeOneOutbound(ipv6);
        assertFalse(write.isSuccess());
        assertEquals(1, arp.dropCounters().get(DropReason.UNROUTABLE));
        assertEquals(0, ipv6.refCnt());
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void rejectsBadConfiguration() {
        assertThrows(IllegalArgumentException.class, () -> new ArpHandler(MacAddress.BROADCAST,
                List.of((Inet4Address) InetAddress.getByName("192.0.2.2"))));
        assertThrows(IllegalArgumentException.class, () -> new ArpHandler(APP_MAC, List.of()));
    }
}
