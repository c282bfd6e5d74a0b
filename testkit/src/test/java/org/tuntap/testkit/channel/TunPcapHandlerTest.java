package org.tuntap.testkit.channel;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.Test;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.pcap.PcapWriter;
import org.tuntap.transport.pcap.TunPcapHandler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TunPcapHandler} next to the channel: what it records, and that a failing file never stops traffic. */
class TunPcapHandlerTest {

    /** Echoes every packet as it came. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    /** An output stream that remembers whether it was closed. */
    private static final class Capture extends ByteArrayOutputStream {
        boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void recordsBothDirectionsWithoutThePiHeaderAndTheLinkTypeOfTheMode() {
        Capture capture = new Capture();
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TAP).packetInfo(true)
                .handlers(new TunPcapHandler(capture), new Echo()).build();
        byte[] frame = Packets.ipv4Like(60, 7); // delivered as is, behind a PI header
        harness.writeRawToTunnel(frame);
        byte[] written = harness.readFromTunnel();
        assertNotNull(written);
        assertFalse(harness.finish());
        assertTrue(capture.closed, "closed with the channel");

        ByteBuffer file = ByteBuffer.wrap(capture.toByteArray());
        assertEquals(0xa1b2c3d4, file.getInt(0));
        assertEquals(PcapWriter.LINKTYPE_ETHERNET, file.getInt(20));
        assertEquals(24 + 2 * (16 + frame.length), file.limit(), "two records: read and written");
        for (int record = 0, at = 24; record < 2; record++, at += 16 + frame.length) {
            assertEquals(frame.length, file.getInt(at + 8), "captured length without the PI header");
            assertEquals(frame.length, file.getInt(at + 12), "original length without the PI header");
            assertArrayEquals(frame, Arrays.copyOfRange(file.array(), at + 16, at + 16 + frame.length));
        }
    }

    @Test
    void aChannelWithoutTrafficLeavesAnEmptyButValidCapture() {
        Capture capture = new Capture();
        TunnelHarness harness = TunnelHarness.builder().mode(TunMode.TUN)
                .handlers(new TunPcapHandler(capture), new Echo()).build();
        assertFalse(harness.finish());
        byte[] file = capture.toByteArray();
        assertEquals(24, file.length, "the global header alone");
        assertEquals(PcapWriter.LINKTYPE_RAW, ByteBuffer.wrap(file).getInt(20));
    }

    @Test
    void aFailingCaptureStopsCapturingButNotTheTraffic() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("disk full");
            }
        };
        TunnelHarness harness = TunnelHarness.builder().handlers(new TunPcapHandler(broken), new Echo()).build();
        for (int i = 0; i < 3; i++) {
            byte[] packet = Packets.ipv4Like(1400, i); // buffered, then the flush after the read fails
            harness.writeToTunnel(packet);
            assertArrayEquals(packet, harness.readFromTunnel(), "packet " + i + " echoed despite the capture failing");
        }
        harness.checkException();
        assertEquals(3, harness.channel().counters().packetsWritten());
        assertFalse(harness.finish());
    }

    @Test
    void nonBufferMessagesPassUncaptured() {
        Capture capture = new Capture();
        TunnelHarness harness = TunnelHarness.builder().handlers(new TunPcapHandler(capture)).build();
        harness.channel().pipeline().fireChannelRead("not a packet");
        assertEquals("not a packet", harness.readInbound());
        assertFalse(harness.finish());
        assertEquals(24, capture.size());
    }
}
