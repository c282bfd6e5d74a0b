package org.tuntap.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.tuntap.codec.checksum.InternetChecksum;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The Internet checksum over one packet's worth of bytes, against two baselines measured in
 * the same run: the obvious byte-at-a-time sum, and a plain copy of the same bytes (what any
 * zero-copy-free path would pay at least). Throughput in GB/s = size / (ns per op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class ChecksumBenchmark {

    @Param({"1500"})
    public int size;

    /** direct: what the channel reads into; heap: what applications often write. */
    @Param({"direct", "heap"})
    public String memory;

    private ByteBuf data;
    private ByteBuf target;
    private byte[] array;

    @Setup(Level.Trial)
    public void setUp() {
        array = new byte[size];
        new Random(1071).nextBytes(array);
        boolean direct = "direct".equals(memory);
        data = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(size) : PooledByteBufAllocator.DEFAULT.heapBuffer(size);
        data.writeBytes(array);
        target = direct ? PooledByteBufAllocator.DEFAULT.directBuffer(size) : PooledByteBufAllocator.DEFAULT.heapBuffer(size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        data.release();
        target.release();
    }

    @Benchmark
    public int internetChecksum() {
        return InternetChecksum.checksum(data, 0, size);
    }

    /** Baseline: one byte per step through the ByteBuf accessors, carries folded at the end. */
    @Benchmark
    public int naiveByteAtATime() {
        ByteBuf buf = data;
        long sum = 0;
        for (int i = 0; i < size; i++) {
            int b = buf.getUnsignedByte(i);
            sum += (i & 1) == 0 ? b << 8 : b;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** Baseline: copying the same bytes once. */
    @Benchmark
    public ByteBuf copy() {
        return target.setBytes(0, data, 0, size);
    }
}
