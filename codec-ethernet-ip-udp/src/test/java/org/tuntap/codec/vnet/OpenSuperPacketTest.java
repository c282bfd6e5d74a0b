package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.TestFusedFields;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.testsupport.InetPackets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The join rules of a super-packet that starts with an Ethernet frame (TAP): every segment gets
 * the first's Ethernet header, so a datagram for other MACs or another ethertype may not join,
 * and the virtio-net header's offsets count the Ethernet header.
 */
class OpenSuperPacketTest {
    private static final byte[] SOURCE = {(byte) 198, 51, 100, 2};
    private static final byte[] DESTINATION = {(byte) 192, 0, 2, 1};
    private static final long APP_MAC = 0x02_00_00_00_00_02L;
    private static final long PEER_MAC = 0x00_00_5e_00_53_01L;

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ByteBuf payload = PooledByteBufAllocator.DEFAULT.heapBuffer().writeZero(100);

    @AfterEach
    void release() {
        payload.release();
        channel.finishAndReleaseAll();
    }

    private static FusedFields fields(long destinationMac, int etherType) {
        FusedFields fields = TestFusedFields.create();
        fields.sourceMac(APP_MAC);
        fields.destinationMac(destinationMac);
        fields.etherType(etherType);
        fields.protocol(17);
        fields.source(0xC633_6402); // 198.51.100.2
        fields.destination(0xC000_0201); // 192.0.2.1
        fields.ports(7, 40000);
        return fields;
    }

    /** The empty virtio-net header, then the Ethernet frame of a 100-byte datagram the fields describe. */
    private static OpenSuperPacket open(FusedFields fields, EmbeddedChannel channel) {
        ByteBuf buffer = VirtioNetHeader.writeEmpty(PooledByteBufAllocator.DEFAULT.heapBuffer());
        EthernetHeader.set(buffer, buffer.writerIndex(), fields.destinationMac(), fields.sourceMac(), fields.etherType());
        buffer.writerIndex(buffer.writerIndex() + EthernetHeader.LENGTH);
        buffer.writeBytes(InetPackets.udp(SOURCE, DESTINATION, 7, 40000, 1, new byte[100]));
        return new OpenSuperPacket(fields, buffer, EthernetHeader.LENGTH, channel.newPromise());
    }

    @Test
    void onlyADatagramForTheSameMacsJoins() {
        OpenSuperPacket open = open(fields(PEER_MAC, EtherType.IPV4), channel);
        assertFalse(open.join(fields(PEER_MAC + 1, EtherType.IPV4), payload, channel.newPromise()), "another destination MAC");
        FusedFields otherSource = fields(PEER_MAC, EtherType.IPV4);
        otherSource.sourceMac(APP_MAC + 1);
        assertFalse(open.join(otherSource, payload, channel.newPromise()), "another source MAC");
        assertTrue(open.join(fields(PEER_MAC, EtherType.IPV4), payload, channel.newPromise()));
        assertEquals(2, open.segments());

        ByteBuf sealed = open.seal();
        int header = sealed.readerIndex();
        assertEquals(VirtioNetHeader.GSO_UDP_L4, VirtioNetHeader.gsoType(sealed, header));
        assertEquals(EthernetHeader.LENGTH + 28, VirtioNetHeader.hdrLen(sealed, header), "hdr_len from the frame's start");
        assertEquals(EthernetHeader.LENGTH + 20, VirtioNetHeader.csumStart(sealed, header), "csum_start from the frame's start");
        assertEquals(100, VirtioNetHeader.gsoSize(sealed, header));
        int ip = header + VirtioNetHeader.LENGTH + EthernetHeader.LENGTH;
        assertEquals(20 + 8 + 200, sealed.getUnsignedShort(ip + 2), "the IPv4 total length of the whole");
        sealed.release();
    }

    @Test
    void aFrameOfAnotherEtherTypeStartsNothingOthersMayJoin() {
        OpenSuperPacket open = open(fields(PEER_MAC, EtherType.IPV6), channel);
        assertFalse(open.join(fields(PEER_MAC, EtherType.IPV6), payload, channel.newPromise()));
        open.fail(new IllegalStateException("closed"));
    }
}
