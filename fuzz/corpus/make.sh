#!/bin/sh
# Regenerates the media seeds of the demux fuzz target: tiny clips (0.2 s, 32x32, mono), a few KiB each.
set -e
cd "$(dirname "$0")"
V="-f lavfi -i testsrc=size=32x32:rate=10:duration=0.2"
A="-f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.2"
X264="-c:v libx264 -preset ultrafast -g 3 -bf 1 -pix_fmt yuv420p"
Q="-y -loglevel error"
O="-map_metadata -1 -fflags +bitexact"
ffmpeg $Q $V $A $X264 -c:a aac -b:a 16k -ac 1 $O tiny.mp4
ffmpeg $Q $V $A $X264 -c:a aac -b:a 16k -ac 1 -movflags +faststart $O tiny-faststart.mp4
ffmpeg $Q $V $A $X264 -c:a aac -b:a 16k -ac 1 -movflags frag_keyframe+empty_moov $O tiny-frag.mp4
ffmpeg $Q $V $X264 -f mov $O tiny.mov
ffmpeg $Q $V $A -c:v libvpx -deadline realtime -cpu-used 8 -c:a libopus -b:a 16k -ac 1 $O tiny.webm
ffmpeg $Q $V $A $X264 -c:a libopus -b:a 16k -ac 1 $O tiny.mkv
