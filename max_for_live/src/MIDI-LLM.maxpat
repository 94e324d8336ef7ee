{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 5,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100.0,
			100.0,
			1000.0,
			720.0
		],
		"openrect": [
			0.0,
			0.0,
			570.0,
			169.0
		],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10.0,
		"default_fontface": 0,
		"default_fontname": "Arial Bold",
		"gridonopen": 1,
		"gridsize": [
			8.0,
			8.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"lefttoolbarpinned": 0,
		"toptoolbarpinned": 0,
		"righttoolbarpinned": 0,
		"bottomtoolbarpinned": 0,
		"toolbars_unpinned_last_save": 0,
		"tallnewobj": 0,
		"boxanimatetime": 200,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 570.0,
		"description": "MIDI-LLM: generate, continue, infill and accompany MIDI clips with a local midi-llm-bridge daemon.",
		"digest": "",
		"tags": "",
		"style": "",
		"subpatcher_template": "",
		"assistshowspatchername": 0,
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						20,
						90,
						22
					],
					"text": "live.thisdevice",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"bang",
						"int",
						"int"
					]
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						52,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "message",
					"patching_rect": [
						20,
						84,
						34,
						22
					],
					"text": "init",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"patching_rect": [
						200,
						20,
						100,
						22
					],
					"text": "udpreceive 9124",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"patching_rect": [
						200,
						52,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						300,
						200,
						22
					],
					"text": "js midi-llm.js",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"saved_object_attributes": {
						"filename": "midi-llm.js",
						"parameter_enable": 0
					}
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						340,
						140,
						22
					],
					"text": "udpsend 127.0.0.1 9123",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": []
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						340,
						330,
						22
					],
					"text": "route status button replyport daemonport daemon installation secret",
					"numinlets": 1,
					"numoutlets": 8,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"patching_rect": [
						330,
						372,
						78,
						22
					],
					"text": "prepend text",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "newobj",
					"patching_rect": [
						420,
						372,
						78,
						22
					],
					"text": "prepend port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"patching_rect": [
						510,
						372,
						78,
						22
					],
					"text": "prepend port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"patching_rect": [
						620,
						20,
						44,
						22
					],
					"text": "midiin",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					]
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "newobj",
					"patching_rect": [
						620,
						60,
						52,
						22
					],
					"text": "midiout",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": []
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "textedit",
					"patching_rect": [
						20,
						130,
						300,
						36
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						4,
						424,
						38
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 2,
					"wordwrap": 1,
					"varname": "Prompt",
					"parameter_enable": 0,
					"fontsize": 11.0,
					"annotation": "What to write, in words (MIDI-LLM checkpoints). Press Return or Generate."
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						176,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						208,
						92,
						22
					],
					"text": "prepend prompt",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "live.text",
					"patching_rect": [
						340,
						130,
						90,
						36
					],
					"presentation": 1,
					"presentation_rect": [
						434,
						4,
						132,
						38
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Generate",
					"texton": "Generate",
					"varname": "Generate",
					"fontsize": 12.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Generate",
							"parameter_shortname": "Generate",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Send the request to the daemon; while it runs, Cancel stops it."
						}
					},
					"annotation": "Send the request to the daemon; while it runs, Cancel stops it."
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "newobj",
					"patching_rect": [
						340,
						176,
						40,
						22
					],
					"text": "t b b",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					]
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "message",
					"patching_rect": [
						340,
						208,
						28,
						22
					],
					"text": "go",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "comment",
					"patching_rect": [
						240,
						420,
						400,
						30
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						126,
						420,
						38
					],
					"text": "MIDI-LLM: press Generate (the daemon starts by itself; Start daemon starts it by hand)",
					"numinlets": 1,
					"numoutlets": 0,
					"linecount": 2,
					"varname": "Status",
					"fontsize": 11.0
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "comment",
					"patching_rect": [
						20,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						46,
						82,
						15
					],
					"text": "Mode",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "live.menu",
					"patching_rect": [
						20,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						61,
						80,
						17
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Mode",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Mode",
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_enum": [
								"generate",
								"continue",
								"infill",
								"accompany"
							],
							"parameter_mmax": 3,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "generate: a new clip (or rewrite the span); continue: after the clip's end; infill: rewrite the span around the other notes; accompany: other instruments around this clip."
						}
					},
					"annotation": "generate: a new clip (or rewrite the span); continue: after the clip's end; infill: rewrite the span around the other notes; accompany: other instruments around this clip."
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						510,
						90,
						22
					],
					"text": "prepend mode",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "comment",
					"patching_rect": [
						130,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						88,
						46,
						92,
						15
					],
					"text": "Span",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "live.menu",
					"patching_rect": [
						130,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						88,
						61,
						90,
						17
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Span",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Span",
							"parameter_shortname": "Span",
							"parameter_type": 2,
							"parameter_enum": [
								"bars",
								"clip loop",
								"selected notes"
							],
							"parameter_mmax": 2,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "bars: this many bars from the clip's start; clip loop: the loop (in Arrangement View: the loop brace); selected notes: from the first to the last selected note."
						}
					},
					"annotation": "bars: this many bars from the start of the clip's loop (never before its start marker); clip loop: the loop (in Arrangement View: the loop brace); selected notes: from the first to the last selected note."
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "newobj",
					"patching_rect": [
						130,
						510,
						90,
						22
					],
					"text": "prepend span",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "comment",
					"patching_rect": [
						240,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						182,
						46,
						42,
						15
					],
					"text": "Bars",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "live.numbox",
					"patching_rect": [
						240,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						182,
						61,
						40,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Bars",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Bars",
							"parameter_shortname": "Bars",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 64,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								4
							],
							"parameter_unitstyle": 0,
							"parameter_info": "Length of the span in bars when Span is bars (continue: how much to add)."
						}
					},
					"annotation": "Length of the span in bars when Span is bars (continue: how much to add)."
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						510,
						90,
						22
					],
					"text": "prepend bars",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "comment",
					"patching_rect": [
						350,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						226,
						46,
						46,
						15
					],
					"text": "Variations",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "live.numbox",
					"patching_rect": [
						350,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						226,
						61,
						44,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Variations",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Variations",
							"parameter_shortname": "Variations",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 8,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_unitstyle": 0,
							"parameter_info": "Candidates decoded together; in Session View each extra one goes into the next empty clip slot below."
						}
					},
					"annotation": "Candidates decoded together; in Session View each extra one goes into the next empty clip slot below."
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "newobj",
					"patching_rect": [
						350,
						510,
						90,
						22
					],
					"text": "prepend variations",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "comment",
					"patching_rect": [
						460,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						274,
						46,
						172,
						15
					],
					"text": "Instrument",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "live.menu",
					"patching_rect": [
						460,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						274,
						61,
						170,
						17
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Instrument",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Instrument",
							"parameter_shortname": "Instrument",
							"parameter_type": 2,
							"parameter_enum": [
								"this track",
								"0 Acoustic Grand Piano",
								"1 Bright Acoustic Piano",
								"2 Electric Grand Piano",
								"3 Honky-tonk Piano",
								"4 Electric Piano 1",
								"5 Electric Piano 2",
								"6 Harpsichord",
								"7 Clavinet",
								"8 Celesta",
								"9 Glockenspiel",
								"10 Music Box",
								"11 Vibraphone",
								"12 Marimba",
								"13 Xylophone",
								"14 Tubular Bells",
								"15 Dulcimer",
								"16 Drawbar Organ",
								"17 Percussive Organ",
								"18 Rock Organ",
								"19 Church Organ",
								"20 Reed Organ",
								"21 Accordion",
								"22 Harmonica",
								"23 Tango Accordion",
								"24 Acoustic Guitar (nylon)",
								"25 Acoustic Guitar (steel)",
								"26 Electric Guitar (jazz)",
								"27 Electric Guitar (clean)",
								"28 Electric Guitar (muted)",
								"29 Overdriven Guitar",
								"30 Distortion Guitar",
								"31 Guitar Harmonics",
								"32 Acoustic Bass",
								"33 Electric Bass (finger)",
								"34 Electric Bass (pick)",
								"35 Fretless Bass",
								"36 Slap Bass 1",
								"37 Slap Bass 2",
								"38 Synth Bass 1",
								"39 Synth Bass 2",
								"40 Violin",
								"41 Viola",
								"42 Cello",
								"43 Contrabass",
								"44 Tremolo Strings",
								"45 Pizzicato Strings",
								"46 Orchestral Harp",
								"47 Timpani",
								"48 String Ensemble 1",
								"49 String Ensemble 2",
								"50 Synth Strings 1",
								"51 Synth Strings 2",
								"52 Choir Aahs",
								"53 Voice Oohs",
								"54 Synth Voice",
								"55 Orchestra Hit",
								"56 Trumpet",
								"57 Trombone",
								"58 Tuba",
								"59 Muted Trumpet",
								"60 French Horn",
								"61 Brass Section",
								"62 Synth Brass 1",
								"63 Synth Brass 2",
								"64 Soprano Sax",
								"65 Alto Sax",
								"66 Tenor Sax",
								"67 Baritone Sax",
								"68 Oboe",
								"69 English Horn",
								"70 Bassoon",
								"71 Clarinet",
								"72 Piccolo",
								"73 Flute",
								"74 Recorder",
								"75 Pan Flute",
								"76 Blown Bottle",
								"77 Shakuhachi",
								"78 Whistle",
								"79 Ocarina",
								"80 Lead 1 (square)",
								"81 Lead 2 (sawtooth)",
								"82 Lead 3 (calliope)",
								"83 Lead 4 (chiff)",
								"84 Lead 5 (charang)",
								"85 Lead 6 (voice)",
								"86 Lead 7 (fifths)",
								"87 Lead 8 (bass + lead)",
								"88 Pad 1 (new age)",
								"89 Pad 2 (warm)",
								"90 Pad 3 (polysynth)",
								"91 Pad 4 (choir)",
								"92 Pad 5 (bowed)",
								"93 Pad 6 (metallic)",
								"94 Pad 7 (halo)",
								"95 Pad 8 (sweep)",
								"96 FX 1 (rain)",
								"97 FX 2 (soundtrack)",
								"98 FX 3 (crystal)",
								"99 FX 4 (atmosphere)",
								"100 FX 5 (brightness)",
								"101 FX 6 (goblin)",
								"102 FX 7 (echoes)",
								"103 FX 8 (sci-fi)",
								"104 Sitar",
								"105 Banjo",
								"106 Shamisen",
								"107 Koto",
								"108 Kalimba",
								"109 Bagpipe",
								"110 Fiddle",
								"111 Shanai",
								"112 Tinkle Bell",
								"113 Agogo",
								"114 Steel Drums",
								"115 Woodblock",
								"116 Taiko Drum",
								"117 Melodic Tom",
								"118 Synth Drum",
								"119 Reverse Cymbal",
								"120 Guitar Fret Noise",
								"121 Breath Noise",
								"122 Seashore",
								"123 Bird Tweet",
								"124 Telephone Ring",
								"125 Helicopter",
								"126 Applause",
								"127 Gunshot",
								"128 Drums"
							],
							"parameter_mmax": 129,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "The instrument of new notes; 'this track' reads it from the track name ('Bass', '[33]') or a Drum Rack."
						}
					},
					"annotation": "The instrument of new notes; 'this track' reads it from the track name ('Bass', '[33]') or a Drum Rack."
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "newobj",
					"patching_rect": [
						460,
						510,
						90,
						22
					],
					"text": "prepend instrument",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "comment",
					"patching_rect": [
						570,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						448,
						46,
						58,
						15
					],
					"text": "Grid",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "live.menu",
					"patching_rect": [
						570,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						448,
						61,
						56,
						17
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Grid",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Grid",
							"parameter_shortname": "Grid",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"1/4",
								"1/8",
								"1/8T",
								"1/16",
								"1/16T",
								"1/32"
							],
							"parameter_mmax": 6,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "Snap new notes to this grid (off: the model's 10 ms steps)."
						}
					},
					"annotation": "Snap new notes to this grid (off: the model's 10 ms steps)."
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "newobj",
					"patching_rect": [
						570,
						510,
						90,
						22
					],
					"text": "prepend grid",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "comment",
					"patching_rect": [
						680,
						460,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						508,
						46,
						60,
						15
					],
					"text": "Seed",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "live.numbox",
					"patching_rect": [
						680,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						508,
						61,
						58,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Seed",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 2147483647,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1,
							"parameter_info": "0: a new seed each time; the status line shows the seed used, type it here to get the same notes again."
						}
					},
					"annotation": "0: a new seed each time; the status line shows the seed used, type it here to get the same notes again."
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"patching_rect": [
						680,
						510,
						90,
						22
					],
					"text": "prepend seed",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "comment",
					"patching_rect": [
						20,
						560,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						84,
						62,
						15
					],
					"text": "Temperature",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "live.numbox",
					"patching_rect": [
						20,
						580,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						99,
						60,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Temperature",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Temperature",
							"parameter_shortname": "Temperature",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 5.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1.0
							],
							"parameter_unitstyle": 1,
							"parameter_info": "Sampling temperature (1.0 as the authors recommend)."
						}
					},
					"annotation": "Sampling temperature (1.0 as the authors recommend)."
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						610,
						90,
						22
					],
					"text": "prepend temperature",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "comment",
					"patching_rect": [
						130,
						560,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						68,
						84,
						54,
						15
					],
					"text": "Top-p",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "live.numbox",
					"patching_rect": [
						130,
						580,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						68,
						99,
						52,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Top-p",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Top-p",
							"parameter_shortname": "Top-p",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 1.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0.98
							],
							"parameter_unitstyle": 1,
							"parameter_info": "Nucleus sampling (0.98 as the authors recommend)."
						}
					},
					"annotation": "Nucleus sampling (0.98 as the authors recommend)."
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "newobj",
					"patching_rect": [
						130,
						610,
						90,
						22
					],
					"text": "prepend top_p",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "comment",
					"patching_rect": [
						240,
						560,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						124,
						84,
						98,
						15
					],
					"text": "Accompany into",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "live.menu",
					"patching_rect": [
						240,
						580,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						124,
						99,
						96,
						17
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Accompany",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Accompany",
							"parameter_shortname": "Accompany",
							"parameter_type": 2,
							"parameter_enum": [
								"this clip",
								"other tracks"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "Accompany into this clip, or into clips on the track of each instrument (new tracks are named after it)."
						}
					},
					"annotation": "Accompany into this clip, or into clips on the track of each instrument, added to a clip already there (new tracks are named after it)."
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						610,
						90,
						22
					],
					"text": "prepend target",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "comment",
					"patching_rect": [
						350,
						560,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						224,
						84,
						62,
						15
					],
					"text": "Daemon port",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "live.numbox",
					"patching_rect": [
						350,
						580,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						224,
						99,
						60,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Daemon port",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Daemon port",
							"parameter_shortname": "Daemon port",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 65535,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								9123
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1,
							"parameter_info": "The UDP port of midi-llm-bridge serve (osc.port, 9123 by default)."
						}
					},
					"annotation": "The UDP port of midi-llm-bridge serve (osc.port, 9123 by default)."
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "newobj",
					"patching_rect": [
						350,
						610,
						90,
						22
					],
					"text": "prepend daemon_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "comment",
					"patching_rect": [
						460,
						560,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						288,
						84,
						62,
						15
					],
					"text": "Reply port",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "live.numbox",
					"patching_rect": [
						460,
						580,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						288,
						99,
						60,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Reply port",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Reply port",
							"parameter_shortname": "Reply port",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 65535,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1,
							"parameter_info": "Where this device hears the daemon; 0 = chosen from the device's id (9124-9999). Each device needs its own."
						}
					},
					"annotation": "Where this device hears the daemon; 0 = chosen from the device's id (9124-9999). Each device needs its own."
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "newobj",
					"patching_rect": [
						460,
						610,
						90,
						22
					],
					"text": "prepend reply_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "live.text",
					"patching_rect": [
						570,
						580,
						60,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						352,
						97,
						64,
						19
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Check",
					"texton": "Check",
					"varname": "Check",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Check",
							"parameter_shortname": "Check",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Ping the daemon and show whether it is ready."
						}
					},
					"annotation": "Ping the daemon and show whether it is ready."
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "message",
					"patching_rect": [
						570,
						610,
						44,
						22
					],
					"text": "check",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						660,
						270,
						22
					],
					"text": "node.script midi-llm-launcher.js @autostart 1",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"saved_object_attributes": {
						"autostart": 1,
						"defer": 0,
						"node_bin_path": "",
						"npm_bin_path": "",
						"watch": 0
					}
				}
			},
			{
				"box": {
					"id": "obj-72",
					"maxclass": "live.text",
					"patching_rect": [
						20,
						700,
						80,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						424,
						84,
						84,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Start daemon",
					"texton": "Start daemon",
					"varname": "Start daemon",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Start daemon",
							"parameter_shortname": "Start daemon",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Start the midi-llm-bridge daemon when none answers (Reload model when it could not load the model)."
						}
					},
					"annotation": "Start the midi-llm-bridge daemon when none answers (Reload model when it could not load the model)."
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "message",
					"patching_rect": [
						20,
						730,
						50,
						22
					],
					"text": "launch",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-74",
					"maxclass": "live.text",
					"patching_rect": [
						120,
						700,
						70,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						510,
						84,
						56,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 1,
					"text": "Auto-start",
					"texton": "Auto-start",
					"varname": "Auto-start",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Auto-start",
							"parameter_shortname": "Auto-start",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1,
							"parameter_info": "Start the daemon automatically when none answers on the Daemon port."
						}
					},
					"annotation": "Start the daemon automatically when none answers on the Daemon port."
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "newobj",
					"patching_rect": [
						120,
						730,
						110,
						22
					],
					"text": "prepend autostart",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-76",
					"maxclass": "textedit",
					"patching_rect": [
						250,
						700,
						200,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						424,
						101,
						142,
						17
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 1,
					"wordwrap": 0,
					"varname": "Daemon path",
					"parameter_enable": 0,
					"fontsize": 9.0,
					"annotation": "Daemon path: this project's folder (or its .venv, or the midi-llm-bridge program). Empty: the folder this device is in, then PATH. Remembered for every MIDI-LLM device and tool."
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "newobj",
					"patching_rect": [
						250,
						730,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-78",
					"maxclass": "newobj",
					"patching_rect": [
						250,
						760,
						120,
						22
					],
					"text": "prepend installation",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-79",
					"maxclass": "newobj",
					"patching_rect": [
						600,
						372,
						78,
						22
					],
					"text": "prepend text",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "newobj",
					"patching_rect": [
						690,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "comment",
					"patching_rect": [
						470,
						700,
						200,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						428,
						126,
						138,
						15
					],
					"text": "Secret (the daemon's osc.secret)",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Secret label"
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "textedit",
					"patching_rect": [
						470,
						730,
						200,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						428,
						142,
						138,
						17
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 1,
					"wordwrap": 0,
					"varname": "Secret",
					"parameter_enable": 0,
					"fontsize": 9.0,
					"annotation": "Secret: the daemon's osc.secret, when it has one (a daemon on another interface than loopback needs one); every message then carries it. Empty: none. Remembered for every MIDI-LLM device and tool, and given to a daemon the device starts."
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "newobj",
					"patching_rect": [
						470,
						760,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "newobj",
					"patching_rect": [
						470,
						790,
						100,
						22
					],
					"text": "prepend secret",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "newobj",
					"patching_rect": [
						780,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-2",
						0
					],
					"source": [
						"obj-1",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-3",
						0
					],
					"source": [
						"obj-2",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-6",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-8",
						0
					],
					"source": [
						"obj-6",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-11",
						0
					],
					"source": [
						"obj-8",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-4",
						0
					],
					"source": [
						"obj-11",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-12",
						0
					],
					"source": [
						"obj-8",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-14",
						0
					],
					"source": [
						"obj-13",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-16",
						0
					],
					"source": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-17",
						0
					],
					"source": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-17",
						0
					],
					"source": [
						"obj-16",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-17",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-19",
						0
					],
					"source": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-15",
						0
					],
					"source": [
						"obj-19",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-20",
						0
					],
					"source": [
						"obj-19",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-20",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-10",
						0
					],
					"source": [
						"obj-8",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-18",
						0
					],
					"source": [
						"obj-10",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-9",
						0
					],
					"source": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-21",
						0
					],
					"source": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-24",
						0
					],
					"source": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-24",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-27",
						0
					],
					"source": [
						"obj-26",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-27",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-30",
						0
					],
					"source": [
						"obj-29",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-30",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-33",
						0
					],
					"source": [
						"obj-32",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-36",
						0
					],
					"source": [
						"obj-35",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-39",
						0
					],
					"source": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-39",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-42",
						0
					],
					"source": [
						"obj-41",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-45",
						0
					],
					"source": [
						"obj-44",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-45",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-48",
						0
					],
					"source": [
						"obj-47",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-48",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-51",
						0
					],
					"source": [
						"obj-50",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-51",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-54",
						0
					],
					"source": [
						"obj-53",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-54",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-57",
						0
					],
					"source": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-57",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-59",
						0
					],
					"source": [
						"obj-58",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-59",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-71",
						0
					],
					"source": [
						"obj-6",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-71",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-73",
						0
					],
					"source": [
						"obj-72",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-73",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-75",
						0
					],
					"source": [
						"obj-74",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-75",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-77",
						0
					],
					"source": [
						"obj-76",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-78",
						0
					],
					"source": [
						"obj-77",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-78",
						0
					],
					"source": [
						"obj-77",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-78",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-79",
						0
					],
					"source": [
						"obj-8",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-72",
						0
					],
					"source": [
						"obj-79",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-80",
						0
					],
					"source": [
						"obj-8",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-76",
						0
					],
					"source": [
						"obj-80",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-92",
						0
					],
					"source": [
						"obj-91",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						0
					],
					"source": [
						"obj-92",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						0
					],
					"source": [
						"obj-92",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-93",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-94",
						0
					],
					"source": [
						"obj-8",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-91",
						0
					],
					"source": [
						"obj-94",
						0
					]
				}
			}
		],
		"parameters": {
			"obj-18": [
				"Generate",
				"Generate",
				0
			],
			"obj-23": [
				"Mode",
				"Mode",
				0
			],
			"obj-26": [
				"Span",
				"Span",
				0
			],
			"obj-29": [
				"Bars",
				"Bars",
				0
			],
			"obj-32": [
				"Variations",
				"Variations",
				0
			],
			"obj-35": [
				"Instrument",
				"Instrument",
				0
			],
			"obj-38": [
				"Grid",
				"Grid",
				0
			],
			"obj-41": [
				"Seed",
				"Seed",
				0
			],
			"obj-44": [
				"Temperature",
				"Temperature",
				0
			],
			"obj-47": [
				"Top-p",
				"Top-p",
				0
			],
			"obj-50": [
				"Accompany",
				"Accompany",
				0
			],
			"obj-53": [
				"Daemon port",
				"Daemon port",
				0
			],
			"obj-56": [
				"Reply port",
				"Reply port",
				0
			],
			"obj-58": [
				"Check",
				"Check",
				0
			],
			"inherited_shortname": 1,
			"obj-72": [
				"Start daemon",
				"Start daemon",
				0
			],
			"obj-74": [
				"Auto-start",
				"Auto-start",
				0
			]
		},
		"dependency_cache": [
			{
				"name": "midi-llm.js",
				"patcherrelativepath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"autosave": 0,
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "11.0",
		"minimum_max_version": "8.5.0",
		"amxdtype": 1835887981
	}
}
